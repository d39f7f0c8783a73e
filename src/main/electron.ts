/**
 * The Electron adapter: `app.requestSingleInstanceLock()` on top of lock-socket's launch
 * forwarding, with Electron's event shape plus a reply.
 *
 * Nothing comes from the electron package, not even types: loading it outside Electron throws
 * (or tries to download a binary), so a runtime import would make this module unusable from plain
 * Node; and a type import would break the type check of every plain-Node user of
 * 'lock-socket/main' who has no electron installed (TS2307 in our .d.ts). The caller passes its
 * `app` in; the structural types below are checked against Electron's own electron.d.ts by the
 * tests (test/main/electron.test.ts), so a mismatch with the real API fails `npm test`.
 */
import { requestSingleInstance } from './instance.js';
import type { SingleInstance, SingleInstanceOptions } from './instance.js';
import type { JsonValue, Launch, LaunchReply } from './types.js';

/**
 * The part of Electron's `app` the adapter touches, with Electron's signatures: the real `app`
 * satisfies it (a test assigns one), and so must a stand-in in tests.
 */
export interface ElectronApp {
  whenReady(): Promise<void>;
  exit(exitCode?: number): void;
  emit(event: string | symbol, ...args: any[]): boolean;
  on(event: 'will-quit', listener: (event: { readonly defaultPrevented: boolean }) => void): unknown;
}

/** The window methods `focusWindow` uses (any `BrowserWindow` has them; a test assigns one). */
export interface FocusableWindow {
  isDestroyed(): boolean;
  isMinimized(): boolean;
  restore(): void;
  isVisible(): boolean;
  show(): void;
  focus(): void;
}

/**
 * Variables a launch forwards unless `env` says otherwise: the Linux window-activation tokens
 * (Wayland's xdg-activation and X11 startup notification). Only those that are set travel.
 */
export const ELECTRON_FORWARD_ENV: readonly string[] = Object.freeze(['XDG_ACTIVATION_TOKEN', 'DESKTOP_STARTUP_ID']);

export interface ElectronLockOptions extends Omit<SingleInstanceOptions, 'data'> {
  /** JSON sent along with a forwarded launch: Electron's `requestSingleInstanceLock(additionalData)`. */
  additionalData?: JsonValue;
  /**
   * In a launch that was forwarded: print the holder's `message` (stdout for exit code 0, stderr
   * otherwise) and call `app.exit(reply.exitCode)` before resolving `false` — before any window
   * exists. Default true. With `false` nothing is printed or ended: read the answer from
   * `getSingleInstance(app)?.reply` and quit yourself.
   */
  exit?: boolean;
}

/** The event object of `app.on('second-instance')`: Electron's, plus the launch as received. */
export interface SecondInstanceEvent {
  /** Call it to answer later yourself with `reply(...)`; otherwise the launch is answered `{ exitCode: 0 }`. */
  preventDefault(): void;
  readonly defaultPrevented: boolean;
  /** Everything the launcher sent: argv, cwd, data, the forwarded env, its pid. */
  readonly launch: Launch;
}

/** Electron's four arguments, byte-exact argv, plus the reply function. */
export type ElectronSecondInstanceListener = (
  event: SecondInstanceEvent,
  argv: string[],
  workingDirectory: string,
  additionalData: unknown,
  reply: (reply: LaunchReply) => void,
) => void;

// Electron declares 'second-instance' with four arguments; these overloads add the five-argument
// listener. Types only, erased at compile time. A TypeScript limit: global augmentations merge
// after electron.d.ts, so Electron's own overload is tried first, and an *unannotated* arrow
// function with five parameters fails it on arity before ours is tried. Annotated listeners (e.g.
// a function typed `ElectronSecondInstanceListener`) and `onSecondInstance` below type-check.
declare global {
  namespace Electron {
    interface App {
      on(event: 'second-instance', listener: ElectronSecondInstanceListener): this;
      once(event: 'second-instance', listener: ElectronSecondInstanceListener): this;
      addListener(event: 'second-instance', listener: ElectronSecondInstanceListener): this;
      prependListener(event: 'second-instance', listener: ElectronSecondInstanceListener): this;
      off(event: 'second-instance', listener: ElectronSecondInstanceListener): this;
      removeListener(event: 'second-instance', listener: ElectronSecondInstanceListener): this;
    }
  }
}

// One instance per app object. A WeakMap, not a property on `app`: nothing leaks onto Electron's
// object, and a stand-in app in a test is collected with its instance.
const instances = new WeakMap<object, SingleInstance>();
// The app focusWindow hands an activation token to (see there).
let lastApp: object | undefined;

/**
 * Electron's `app.requestSingleInstanceLock()`, forwarding over lock-socket. Resolves `true` in
 * the instance that holds the lock, `false` in a launch that was forwarded (by default that launch
 * has already been ended with the holder's exit code). Rejects with a `LockSocketError` when the
 * launch could be neither (e.g. a foreign program on the port): unlike Electron's `false`, that
 * is never confused with "delivered".
 *
 * @example
 * ```ts
 * if (await requestSingleInstanceLock(app, { port: 27182, appId: 'com.example.app' })) {
 *   onSecondInstance(app, (event, argv) => { focusWindow(win, event.launch); openFiles(argv); });
 * } // else: forwarded, and app.exit(reply.exitCode) has been called
 * ```
 */
export async function requestSingleInstanceLock(app: ElectronApp, options: ElectronLockOptions): Promise<boolean> {
  const known = instances.get(app);
  if (known) return known.isPrimary; // Electron answers a repeated call the same way
  lastApp = app;
  const { additionalData, exit = true, env = [...ELECTRON_FORWARD_ENV], ...rest } = options;
  const instance = await requestSingleInstance({
    ...rest,
    env,
    ...(additionalData === undefined ? {} : { data: additionalData }),
  });
  instances.set(app, instance);
  if (!instance.isPrimary) {
    if (exit) {
      const reply = instance.reply ?? { exitCode: 0 };
      await printMessage(reply);
      app.exit(reply.exitCode);
    }
    return false;
  }
  // Attached at once so the layer never queues for lack of a handler; holding the launch until
  // `ready` is this adapter's job (Electron emits 'second-instance' only after ready).
  instance.on('second-instance', (launch, reply) => emitOnApp(app, launch, reply));
  app.on('will-quit', (event) => {
    // Look after every will-quit listener has run: one may cancel the quit, and then the app
    // keeps running and must keep its lock. If it does quit, the kernel frees the port anyway.
    setImmediate(() => {
      if (!event.defaultPrevented) void releaseSingleInstanceLock(app);
    }).unref();
  });
  return true;
}

async function emitOnApp(app: ElectronApp, launch: Launch, reply: (r: LaunchReply) => void): Promise<void> {
  await app.whenReady();
  // One more turn, so `app.whenReady().then(...)` / 'ready' handlers that attach the
  // 'second-instance' listener run before queued launches are emitted.
  await new Promise<void>((resolve) => setImmediate(resolve));
  let prevented = false;
  let replied = false;
  // A listener that answers synchronously wins over the default answer; later calls are ignored.
  const replyOnce = (r: LaunchReply): void => {
    if (replied) return;
    replied = true;
    reply(r);
  };
  const event: SecondInstanceEvent = {
    preventDefault: () => void (prevented = true),
    get defaultPrevented() {
      return prevented;
    },
    launch,
  };
  // A listener that throws rejects this promise: the layer tells the launcher EHANDLER.
  app.emit('second-instance', event, launch.argv, launch.cwd, launch.data, replyOnce);
  // Electron 18's ackCallback rule: handlers written for Electron never reply, so answer for them.
  if (!prevented) replyOnce({ exitCode: 0 });
}

function printMessage(reply: LaunchReply): Promise<void> {
  if (reply.message === undefined) return Promise.resolve();
  const stream = reply.exitCode === 0 ? process.stdout : process.stderr;
  // Wait for the write: app.exit() ends the process without flushing piped output.
  return new Promise((resolve) => {
    try {
      stream.write(`${reply.message}\n`, () => resolve());
    } catch {
      resolve(); // a Windows GUI app may have no usable stdout; the exit code still tells
    }
  });
}

/**
 * `app.on('second-instance', listener)` with every parameter inferred, including `reply` and
 * `event.launch` (see the note on the augmentation above). Returns `app`.
 */
export function onSecondInstance<A extends { on(event: 'second-instance', listener: ElectronSecondInstanceListener): unknown }>(
  app: A,
  listener: ElectronSecondInstanceListener,
): A {
  app.on('second-instance', listener);
  return app;
}

/**
 * The single instance behind `app`: `isPrimary`, `addr`, `port`, `holderPid`, and for a forwarded
 * launch the holder's `reply`. Undefined before `requestSingleInstanceLock(app, …)` resolved, and
 * after release.
 */
export function getSingleInstance(app: object): SingleInstance | undefined {
  return instances.get(app);
}

/**
 * Release the lock now instead of at `will-quit` — e.g. before `autoUpdater.quitAndInstall()` or
 * `app.relaunch()`, so the new copy (started with `waitForRelease`) can take over. Idempotent.
 */
export async function releaseSingleInstanceLock(app: object): Promise<void> {
  const instance = instances.get(app);
  if (!instance) return;
  instances.delete(app);
  await instance.close();
}

/**
 * Bring a window forward for a launch: restore if minimized, show if hidden, focus. Returns
 * false when the window is already destroyed.
 *
 * On Linux a compositor only lets a window take focus with the launcher's activation token.
 * Chromium reads XDG_ACTIVATION_TOKEN / DESKTOP_STARTUP_ID from the environment once at startup
 * (and removes them), so setting `process.env` in the holder later does nothing; Electron's own
 * single-instance path hands the token over in C++. When the running Electron offers a way to
 * set it (`app.setActivationToken`, proposed upstream), the forwarded token is passed there
 * before focusing; otherwise the compositor decides (often: an "is ready" notice).
 */
export function focusWindow(win: FocusableWindow, launch?: Pick<Launch, 'env'>): boolean {
  if (win.isDestroyed()) return false;
  const token = launch?.env['XDG_ACTIVATION_TOKEN'] ?? launch?.env['DESKTOP_STARTUP_ID'];
  const setToken = (lastApp as { setActivationToken?: unknown } | undefined)?.setActivationToken;
  if (token !== undefined && typeof setToken === 'function') setToken.call(lastApp, token);
  if (win.isMinimized()) win.restore();
  if (!win.isVisible()) win.show();
  win.focus();
  return true;
}
