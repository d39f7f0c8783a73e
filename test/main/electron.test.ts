import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { App, BrowserWindow } from 'electron';
import {
  focusWindow,
  getSingleInstance,
  onSecondInstance,
  releaseSingleInstanceLock,
  requestSingleInstanceLock,
} from '../../src/main/electron.js';
import type { ElectronApp, ElectronSecondInstanceListener, FocusableWindow, SecondInstanceEvent } from '../../src/main/electron.js';
import type { LaunchReply } from '../../src/main/types.js';
import { foregroundGrant } from '../../src/main/foreground.js';
import { StandInApp, fitsElectron } from '../fixtures/electron-stand-in.js';
import { StandInEvent } from '../fixtures/electron-api.js';
import { portsFor } from '../helpers/ports.js';
import { privateDir } from '../helpers/dirs.js';
import { Child, HANG_GUARD_MS, fixture, killAll, type Line } from '../helpers/child.js';

const { port } = portsFor(import.meta.url);
const launcherJs = fixture('electron-launcher');
const secretDir = privateDir('lock-socket-electron-');
after(() => killAll());

// Type-level checks: compiled with the tests, never run. If the augmentation or the helper lose
// their types, `npm test` fails at tsc.
export function typeChecks(app: App, win: BrowserWindow): void {
  const adapted: ElectronApp = app; // the real app fits what the adapter asks for
  const focusable: FocusableWindow = win; // and a real window what focusWindow asks for
  void [adapted, focusable];
  const listener: ElectronSecondInstanceListener = (event, argv, workingDirectory, additionalData, reply) => {
    const a: string[] = argv;
    const w: string = workingDirectory;
    void [a, w, additionalData, event.launch.pid];
    reply({ exitCode: 3, message: 'handled' });
  };
  app.on('second-instance', listener);
  app.once('second-instance', listener);
  app.on('second-instance', (event, argv, workingDirectory) => void [event, argv, workingDirectory]); // Electron's 4-arg form
  onSecondInstance(app, (event, argv, workingDirectory, additionalData, reply) => {
    void [event.launch.env, argv, workingDirectory, additionalData];
    event.preventDefault();
    // @ts-expect-error the exit code is a number: a mistyped reply must not compile
    reply({ exitCode: 'x' });
  });
}

interface Run {
  child: ChildProcess;
  lines: Line[];
  text: string[];
  /** Resolves with the first JSON line that has `key`. */
  line(key: string): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

function launch(args: string[], options: Record<string, unknown>, cwd = secretDir, ready: 'early' | 'late' = 'late'): Run {
  const child = new Child([launcherJs, ...args], {
    cwd,
    env: {
      ...process.env,
      LOCK_SOCKET_TEST_OPTIONS: JSON.stringify({ appId: 'com.example.electron-test', secretDir, ...options }),
      LOCK_SOCKET_TEST_READY: ready,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const json = (): Line[] => child.lines.filter((l) => l.event !== 'text');
  return {
    child: child.process,
    get lines() {
      return json();
    },
    // What the launcher printed that is not JSON (e.g. the holder's message), stdout then stderr.
    get text() {
      return [...child.lines.filter((l) => l.event === 'text').map((l) => l['text'] as string), ...child.stderr.split('\n')];
    },
    // After the exit *and* all output read, so `text` and `lines` are complete by then.
    exited: child.closed.then((exit) => exit.code),
    line: (key) => child.find((l) => l.event !== 'text' && key in l, HANG_GUARD_MS, `a "${key}" line`) as Promise<Record<string, unknown>>,
  };
}

interface Received {
  event: SecondInstanceEvent;
  argv: string[];
  workingDirectory: string;
  additionalData: unknown;
  reply: (r: LaunchReply) => void;
  count: number;
}

/** The next 'second-instance' emitted on `app`, with the raw arguments as Electron order has them. */
function nextSecondInstance(app: StandInApp, handle?: (r: Received) => void): Promise<Received> {
  return new Promise((resolve) => {
    const listener = (...args: unknown[]): void => {
      app.off('second-instance', listener);
      const [event, argv, workingDirectory, additionalData, reply] = args as [SecondInstanceEvent, string[], string, unknown, (r: LaunchReply) => void];
      const received = { event, argv, workingDirectory, additionalData, reply, count: args.length };
      handle?.(received);
      resolve(received);
    };
    app.on('second-instance', listener);
  });
}

async function primary(p: number): Promise<StandInApp> {
  const app = new StandInApp();
  assert.equal(await requestSingleInstanceLock(fitsElectron(app), { port: p, appId: 'com.example.electron-test', secretDir }), true);
  return app;
}

const awkwardArgs = ['--flag', '', 'two words', 'line\nbreak', '--', 'ünïcödé ✓', 'lock-socket-example://open?x=1&y=2'];

describe('Electron adapter with a stand-in app', () => {
  test('held until ready, then emitted in Electron order; default answer exit code 0', async () => {
    const app = await primary(port(0));
    try {
      const received = nextSecondInstance(app);
      const run = launch(awkwardArgs, { port: port(0), additionalData: { n: 1, s: 'x' } });
      await run.line('delivered'); // the holder accepted it while the app is not ready
      let emitted = false;
      void received.then(() => (emitted = true));
      await new Promise((r) => setImmediate(r));
      assert.equal(emitted, false, 'nothing may be emitted before ready');
      app.makeReady();
      const r = await received;
      assert.equal(r.count, 5);
      assert.deepEqual(r.argv, [process.execPath, launcherJs, ...awkwardArgs]);
      assert.equal(r.workingDirectory, secretDir);
      assert.deepEqual(r.additionalData, { n: 1, s: 'x' });
      assert.equal(typeof r.reply, 'function');
      assert.equal(r.event.launch.pid, run.child.pid);
      assert.equal(r.event.defaultPrevented, false);
      assert.deepEqual(await run.line('exit'), { exit: 0, ready: true });
      assert.deepEqual(await run.line('resolved'), { resolved: false });
      assert.equal(await run.exited, 0);
    } finally {
      await releaseSingleInstanceLock(app);
    }
  });

  test('preventDefault, then a later reply: the launch ends with its code and prints its message', async () => {
    const app = await primary(port(1));
    app.makeReady();
    try {
      const received = nextSecondInstance(app, (r) => r.event.preventDefault());
      const run = launch(['open', 'file.txt'], { port: port(1) });
      const r = await received;
      assert.equal(r.event.defaultPrevented, true);
      await new Promise((resolve) => setTimeout(resolve, 20)); // "after async work"; no assertion on time
      r.reply({ exitCode: 3, message: 'could not open file.txt' });
      assert.deepEqual(await run.line('exit'), { exit: 3, ready: true });
      assert.equal(await run.exited, 3);
      assert.ok(run.text.includes('could not open file.txt'), run.text.join('\n'));
    } finally {
      await releaseSingleInstanceLock(app);
    }
  });

  test('a listener that replies synchronously without preventDefault wins over the default', async () => {
    const app = await primary(port(2));
    app.makeReady();
    try {
      void nextSecondInstance(app, (r) => r.reply({ exitCode: 5, message: 'five' }));
      const run = launch([], { port: port(2) });
      assert.equal(await run.exited, 5);
      assert.ok(run.text.includes('five'));
    } finally {
      await releaseSingleInstanceLock(app);
    }
  });

  test('a throwing listener gives the launcher EHANDLER, and the holder keeps serving', async () => {
    const app = await primary(port(3));
    app.makeReady();
    try {
      const listener = (): void => {
        throw new Error('boom');
      };
      app.on('second-instance', listener);
      const run = launch([], { port: port(3) });
      assert.deepEqual(await run.line('error'), { error: 'EHANDLER' });
      await run.exited;
      app.off('second-instance', listener);
      const ok = launch([], { port: port(3) });
      assert.equal(await ok.exited, 0);
    } finally {
      await releaseSingleInstanceLock(app);
    }
  });

  test('exit: false leaves the app running and the reply readable', async () => {
    const app = await primary(port(4));
    app.makeReady();
    const launcherApp = new StandInApp();
    try {
      void nextSecondInstance(app, (r) => r.reply({ exitCode: 9, message: 'nine', data: [1] }));
      const result = await requestSingleInstanceLock(fitsElectron(launcherApp), {
        port: port(4),
        appId: 'com.example.electron-test',
        secretDir,
        exit: false,
      });
      assert.equal(result, false);
      assert.deepEqual(launcherApp.exits, []);
      assert.deepEqual(getSingleInstance(launcherApp)?.reply, { exitCode: 9, message: 'nine', data: [1] });
      // A repeated call answers like Electron: the same result, no second launch.
      assert.equal(await requestSingleInstanceLock(fitsElectron(launcherApp), { port: port(4), appId: 'com.example.electron-test', secretDir }), false);
    } finally {
      await releaseSingleInstanceLock(app);
    }
  });

  test('a forwarded launch resolves false, then ends at ready (never app.exit() before ready: electron#52856)', async () => {
    const app = await primary(port(7));
    app.makeReady();
    try {
      void nextSecondInstance(app, (r) => r.reply({ exitCode: 4, message: 'four' }));
      const late = launch([], { port: port(7) });
      assert.equal(await late.exited, 4);
      const lines = late.lines;
      const resolved = lines.findIndex((l) => 'resolved' in l);
      const exited = lines.findIndex((l) => 'exit' in l);
      assert.ok(resolved >= 0 && resolved < exited, JSON.stringify(lines));
      assert.deepEqual(lines[exited], { exit: 4, ready: true });
      assert.ok(late.text.includes('four'));

      // Ready before the answer (a CommonJS main): the app ends at once, before resolving.
      void nextSecondInstance(app, (r) => r.reply({ exitCode: 5 }));
      const early = launch([], { port: port(7) }, secretDir, 'early');
      assert.equal(await early.exited, 5);
      const order = early.lines.map((l) => Object.keys(l).find((k) => k !== 'ready'));
      assert.ok(order.indexOf('exit') < order.indexOf('resolved'), JSON.stringify(early.lines));
    } finally {
      await releaseSingleInstanceLock(app);
    }
  });

  test("a launch that can neither hold nor forward prints why and ends with solo's exit code, then rejects", async () => {
    // Something that is not lock-socket holds the port: it closes every connection unanswered.
    const foreign = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => foreign.listen(port(8), '127.0.0.1', resolve));
    try {
      const run = launch([], { port: port(8), addr: '127.0.0.1' });
      assert.equal(await run.exited, 75);
      assert.deepEqual(run.lines.find((l) => 'error' in l), { error: 'EFOREIGN' });
      assert.deepEqual(run.lines.find((l) => 'exit' in l), { exit: 75, ready: true });
      assert.ok(run.text.some((l) => l.startsWith('lock-socket: EFOREIGN: ')), run.text.join('\n'));
    } finally {
      foreign.close();
    }
  });

  test('Windows foreground: the launcher grants the holder (its proven pid) before handing over', async () => {
    const app = await primary(port(9));
    app.makeReady();
    const events: string[] = [];
    try {
      void nextSecondInstance(app, () => events.push('second-instance'));
      const launcherApp = new StandInApp();
      const result = await requestSingleInstanceLock(fitsElectron(launcherApp), {
        port: port(9),
        appId: 'com.example.electron-test',
        secretDir,
        exit: false,
        argv: [],
        allowForeground: (pid) => events.push(`grant ${pid}`),
      });
      assert.equal(result, false);
      assert.deepEqual(events, [`grant ${process.pid}`, 'second-instance']);
      // Without a function, only Windows looks for a helper (and here it is not installed).
      assert.equal(await foregroundGrant(undefined, 'linux'), undefined);
      assert.equal(await foregroundGrant(undefined, 'win32'), undefined);
      assert.equal(await foregroundGrant(false, 'win32'), undefined);
    } finally {
      await releaseSingleInstanceLock(app);
    }
  });

  test('will-quit releases the lock (unless the quit is cancelled): another process takes it', async () => {
    const app = await primary(port(5));
    app.makeReady();
    const instance = getSingleInstance(app)!;
    try {
      // A cancelled quit keeps the lock: the app goes on running and still receives launches.
      app.on('will-quit', function cancel(event: StandInEvent) {
        app.off('will-quit', cancel);
        event.preventDefault();
      });
      app.emit('will-quit', new StandInEvent());
      await new Promise((r) => setImmediate(r));
      assert.equal(getSingleInstance(app), instance);
      const forwarded = launch([], { port: port(5) });
      assert.deepEqual(await forwarded.line('resolved'), { resolved: false });
      await forwarded.exited;

      app.emit('will-quit', new StandInEvent());
      await new Promise((r) => setImmediate(r));
      assert.equal(getSingleInstance(app), undefined, 'will-quit started the release');
      await instance.close(); // the release will-quit started (idempotent): wait for it to finish
      const next = launch([], { port: port(5) });
      assert.deepEqual(await next.line('resolved'), { resolved: true });
      await next.exited;
    } finally {
      await releaseSingleInstanceLock(app);
    }
  });
});

describe('focusWindow', () => {
  function window(state: { destroyed?: boolean; minimized?: boolean; visible?: boolean }): FocusableWindow & { calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      isDestroyed: () => state.destroyed ?? false,
      isMinimized: () => state.minimized ?? false,
      isVisible: () => state.visible ?? true,
      restore: () => void calls.push('restore'),
      show: () => void calls.push('show'),
      focus: () => void calls.push('focus'),
    };
  }

  test('restores a minimized window, shows a hidden one, then focuses', () => {
    const w = window({ minimized: true, visible: false });
    assert.equal(focusWindow(w), true);
    assert.deepEqual(w.calls, ['restore', 'show', 'focus']);
    const plain = window({});
    focusWindow(plain, { env: {} });
    assert.deepEqual(plain.calls, ['focus']);
  });

  test('leaves a destroyed window alone', () => {
    const w = window({ destroyed: true });
    assert.equal(focusWindow(w), false);
    assert.deepEqual(w.calls, []);
  });

  test('macOS: the holder app takes the focus with steal: true before the window is focused', async () => {
    const holder = await primary(port(6));
    const platform = Object.getOwnPropertyDescriptor(process, 'platform')!;
    try {
      Object.defineProperty(process, 'platform', { ...platform, value: 'darwin' });
      const w = window({});
      focusWindow(w, { env: { XDG_ACTIVATION_TOKEN: 'token-1' } });
      assert.deepEqual(holder.focuses, [{ steal: true }]);
      Object.defineProperty(process, 'platform', { ...platform, value: 'linux' });
      focusWindow(w);
      assert.deepEqual(holder.focuses, [{ steal: true }], 'elsewhere the app is not asked');
      assert.deepEqual(w.calls, ['focus', 'focus']);
    } finally {
      Object.defineProperty(process, 'platform', platform);
      await releaseSingleInstanceLock(holder);
    }
  });

});
