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
import { LockSocketError } from './errors.js';
import { exitCodeForError } from './exit-codes.js';
import { foregroundGrant, type AllowForeground } from './foreground.js';
import { requestSingleInstance } from './instance.js';
import type { SingleInstance, SingleInstanceOptions } from './instance.js';
import type { JsonValue, Launch, LaunchReply } from './types.js';

/**
 * The part of Electron's `app` the adapter touches, with Electron's signatures: the real `app`
 * satisfies it (a test assigns one), and so must a stand-in in tests.
 */
export interface ElectronApp {
  whenReady(): Promise<void>;
  isReady(): boolean;
  exit(exitCode?: number): void;
  emit(event: string | symbol, ...args: any[]): boolean;
  on(event: 'will-quit', listener: (event: { readonly defaultPrevented: boolean }) => void): unknown;
  prependOnceListener(event: 'ready', listener: () => void): unknown;
  /** macOS: `{ steal: true }` takes the focus from the active app (focusWindow uses it). */
  focus(options?: { steal: boolean }): void;
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
   * Default true. In a launch that was forwarded: print the holder's `message` (stdout for exit
   * code 0, stderr otherwise), resolve `false`, and end the app with `reply.exitCode`. In a launch
   * that could neither hold nor forward: print the error on stderr, end the app with
   * `exitCodeForError(error.code)` (solo's table: 75, 78 or 71), and reject. The app ends at
   * `ready`, or at once if it is ready already (see `endApp`). With `false` nothing is printed or
   * ended: read the answer from `getSingleInstance(app)?.reply` and quit yourself.
   */
  exit?: boolean;
  /**
   * Windows: how the launcher lets the holder take the foreground before handing over (see
   * foreground.ts). Default: the `windows-foreground-love` package if the app has it, on Windows
   * only; a function is used on every platform; `false` never grants.
   */
  allowForeground?: AllowForeground | false;
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
// The app that holds a lock in this process: focusWindow asks it for the focus on macOS.
let holderApp: ElectronApp | undefined;

/**
 * Electron's `app.requestSingleInstanceLock()`, forwarding over lock-socket. Resolves `true` in
 * the instance that holds the lock, `false` in a launch that was forwarded (by default that launch
 * ends with the holder's exit code at `ready`: create no window for it). Rejects with a
 * `LockSocketError` when the launch could be neither (e.g. a foreign program on the port): unlike
 * Electron's `false`, that is never confused with "delivered"; by default the error has been
 * printed and the app ends at `ready` with `exitCodeForError(error.code)`.
 *
 * Never wait for `ready` before this resolves: in an ES module main, Electron emits `ready` only
 * after the entry module has finished evaluating (docs/electron.md).
 *
 * @example
 * ```ts
 * if (await requestSingleInstanceLock(app, { port: 27182, appId: 'com.example.app' })) {
 *   onSecondInstance(app, (event, argv) => { focusWindow(win, event.launch); openFiles(argv); });
 * } // else: forwarded; this launch ends with the holder's exit code
 * ```
 */
export async function requestSingleInstanceLock(app: ElectronApp, options: ElectronLockOptions): Promise<boolean> {
  const known = instances.get(app);
  if (known) return known.isPrimary; // Electron answers a repeated call the same way
  const { additionalData, exit = true, allowForeground, env = [...ELECTRON_FORWARD_ENV], ...rest } = options;
  let instance: SingleInstance;
  try {
    // Windows: the holder may take the foreground only if this launch allows it, before the
    // holder sees the launch (foreground.ts); its pid is known, and proven, just before.
    const grant = rest.waitForRelease ? undefined : await foregroundGrant(allowForeground);
    instance = await requestSingleInstance({
      ...rest,
      env,
      ...(grant === undefined ? {} : { onProven: ({ holderPid }) => allowQuietly(grant, holderPid, rest.onProven) }),
      ...(additionalData === undefined ? {} : { data: additionalData }),
    });
  } catch (error) {
    if (exit) {
      const code = error instanceof LockSocketError ? exitCodeForError(error.code) : EXIT_FAILED;
      await write(process.stderr, `lock-socket: ${error instanceof LockSocketError ? `${error.code}: ` : ''}${(error as Error)?.message ?? String(error)}`);
      endApp(app, code);
    }
    throw error;
  }
  instances.set(app, instance);
  if (!instance.isPrimary) {
    if (exit) {
      const reply = instance.reply ?? { exitCode: 0 };
      await printMessage(reply);
      endApp(app, reply.exitCode);
    }
    return false;
  }
  holderApp = app;
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

/** A helper that fails costs the focus, not the launch; the app's own onProven still runs. */
function allowQuietly(grant: AllowForeground, holderPid: number, onProven: SingleInstanceOptions['onProven']): void {
  try {
    grant(holderPid);
  } catch {
    // the taskbar button flashes instead
  }
  onProven?.({ holderPid });
}

/** The exit status for a failure that is not a LockSocketError (a bug): EX_SOFTWARE. */
const EXIT_FAILED = 70;

/**
 * Ends the app with `code` once that is safe. Before `ready`, Electron's `app.exit()` is C's
 * `exit()` (shell/browser/browser.cc, Browser::Exit: "Message loop is not ready, quit directly"),
 * which aborts on Electron 42.x ≤ 42.9.3 and 43.x ≤ 43.4.0 when tls has been loaded
 * (electron#52856); after `ready` it is Electron's orderly shutdown on every version. So: at once
 * if the app is ready, else as the very first `ready` listener, before any window can be made.
 * Not awaited: in an ES module main `ready` comes only after the entry module has finished, and
 * that module may be waiting for us.
 */
function endApp(app: ElectronApp, code: number): void {
  if (app.isReady()) app.exit(code);
  else app.prependOnceListener('ready', () => app.exit(code));
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
  return write(reply.exitCode === 0 ? process.stdout : process.stderr, reply.message);
}

function write(stream: NodeJS.WriteStream, line: string): Promise<void> {
  // Wait for the write: app.exit() ends the process without flushing piped output.
  return new Promise((resolve) => {
    try {
      stream.write(`${line}\n`, () => resolve());
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
  if (holderApp === app) holderApp = undefined;
  await instance.close();
}

/**
 * Bring a window forward for a launch: restore if minimized, show if hidden, focus. Returns
 * false when the window is already destroyed.
 *
 * - macOS: the app first takes the focus with `app.focus({ steal: true })`; a plain `focus()`
 *   does not take it from the active app (e.g. the Terminal the launch was typed in).
 * - Windows: works when the launcher granted the foreground (`allowForeground`); otherwise the
 *   taskbar button flashes.
 * - Linux: the compositor decides. Chromium reads XDG_ACTIVATION_TOKEN / DESKTOP_STARTUP_ID once
 *   at startup and removes them from the environment, and Electron has no API to hand it a token
 *   later, so the token a launch forwards (`launch.env`) cannot be used from JavaScript; GNOME on
 *   Wayland then shows an "is ready" notice instead of raising the window. `launch` is accepted
 *   for the day Electron can take one.
 */
export function focusWindow(win: FocusableWindow, launch?: Pick<Launch, 'env'>): boolean {
  void launch;
  if (win.isDestroyed()) return false;
  if (win.isMinimized()) win.restore();
  if (!win.isVisible()) win.show();
  if (process.platform === 'darwin') holderApp?.focus({ steal: true });
  win.focus();
  return true;
}
