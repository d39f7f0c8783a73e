/**
 * The example app's holder: everything the instance that holds the lock does (window, launches,
 * deep links). Shared by the two mains, main.ts (ES module) and main-cjs.cts (CommonJS), which
 * differ only in how they wait for the lock. Electron comes in as a parameter, so this module
 * loads the same way from both.
 *
 * Test mode (LOCK_SOCKET_EXAMPLE_TEST=1): one JSON line per event on stdout, no protocol
 * registration, hidden window; a launch with `--quit` among its arguments ends the holder.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { App, BrowserWindow as Window } from 'electron';
import { focusWindow, getSingleInstance, onSecondInstance, type ElectronLockOptions, type JsonValue, type Launch, type LaunchReply } from 'lock-socket/main';
import { lockTarget } from './config.js';

type ElectronMain = Pick<typeof import('electron'), 'app' | 'BrowserWindow' | 'ipcMain'>;

const require = createRequire(import.meta.url);
// @electron/remote has no ESM entry for its main half; require() is how its docs load it.
const remoteMain = require('@electron/remote/main') as typeof import('@electron/remote/main', { with: { 'resolution-mode': 'require' } });

export const SCHEME = 'lock-socket-example';
const testMode = process.env['LOCK_SOCKET_EXAMPLE_TEST'] === '1';

export function log(event: string, fields: Record<string, unknown> = {}): void {
  if (testMode) process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

/**
 * The lock's options, the same for both mains (and, but for the data, for cli.ts: config.ts).
 * A second launch of the GUI binary itself answers the command line as cli.ts does, only after
 * Chromium has started (an AppImage has no other entry, docs/cli.md): the holder's output comes
 * out on this launch's stdout and stderr anyway, `--wait` waits for the answer, `-` sends stdin.
 */
export function lockOptions(): ElectronLockOptions {
  return {
    ...lockTarget(),
    additionalData: { launchedAt: new Date().toISOString() },
    ...(process.argv.includes('--wait') ? { replyTimeout: Infinity } : {}),
    ...(process.argv.includes('-') ? { stdin: process.stdin } : {}),
  };
}

/** A launch as the window lists it (renderer.ts): what the launcher sent, when, and its deep link. */
export interface LaunchRecord extends Pick<Launch, 'argv' | 'cwd' | 'data' | 'pid'> {
  time: number;
  deepLink: string | undefined;
}

type Opened = { kind: 'open-url'; url: string } | { kind: 'open-file'; path: string };

/** Where `open-url` / `open-file` go: kept until the holder's window is there, then handed to it. */
export interface Opens {
  deliverTo(handler: (opened: Opened) => void): void;
}

/**
 * macOS delivers `open-url` / `open-file` to a starting app early, possibly before the lock has
 * answered: listen from the first line of main, keep them until the holder's window exists.
 */
export function listenEarly(app: App): Opens {
  const queue: Opened[] = [];
  let handler: ((opened: Opened) => void) | undefined;
  const take = (opened: Opened): void => (handler ? handler(opened) : void queue.push(opened));
  app.on('open-url', (event, url) => {
    event.preventDefault();
    take({ kind: 'open-url', url });
  });
  app.on('open-file', (event, path) => {
    event.preventDefault();
    take({ kind: 'open-file', path });
  });
  return {
    deliverTo(next) {
      handler = next;
      for (const opened of queue.splice(0)) next(opened);
    },
  };
}

/** Called once `requestSingleInstanceLock` resolved true. Creates the window at `ready`. */
export function startHolder({ app, BrowserWindow, ipcMain }: ElectronMain, opens: Opens): void {
  const instance = getSingleInstance(app)!;
  const status = { addr: instance.addr, port: instance.port, pid: instance.holderPid, since: instance.startedAt };
  const launches: LaunchRecord[] = [];
  let win: Window | undefined;

  // Read by the renderer through @electron/remote (see preload.cts).
  (globalThis as { lockSocketExample?: unknown }).lockSocketExample = { status, launches };

  if (!testMode) {
    // In development Electron runs as `electron path/to/app`: register with that path so the OS
    // starts this app, not a bare Electron, for lock-socket-example:// links. The URL is the last
    // argument there (Windows ends a process whose URL argument is followed by another one).
    if (process.defaultApp && process.argv[1] !== undefined) {
      app.setAsDefaultProtocolClient(SCHEME, process.execPath, [fileURLToPath(new URL('../', import.meta.url))]);
    } else {
      app.setAsDefaultProtocolClient(SCHEME);
    }
  }

  function show(record: LaunchRecord, launch?: { env: Record<string, string> }): void {
    launches.push(record);
    win?.webContents.send('launch', record);
    if (win) focusWindow(win, launch);
  }

  /** Launches of `--wait FILE`, answered when FILE is marked done (`--done FILE`, or in the window). */
  const waiting = new Map<string, (reply: LaunchReply) => void>();

  onSecondInstance(app, (event, argv, workingDirectory, additionalData, reply) => {
    const deepLink = argv.find((arg) => arg.startsWith(`${SCHEME}://`));
    const data = additionalData as JsonValue | undefined;
    log('second-instance', { argv, cwd: workingDirectory, data, deepLink });
    show({ argv, cwd: workingDirectory, data, pid: event.launch.pid, time: Date.now(), deepLink }, event.launch);
    const command = commandOf(argv);
    if (command) {
      event.preventDefault(); // answered by the command, maybe much later
      void command(event.launch, reply);
      return;
    }
    const message = deepLink ? `opened ${deepLink} in the running window (pid ${process.pid})` : `handed over to the running window (pid ${process.pid}), launch #${launches.length}`;
    reply({ exitCode: 0, message, data: { launch: launches.length } });
    if (argv.includes('--quit')) setImmediate(() => app.quit());
  });

  /** The command-line commands (cli.ts), each answering its launch itself. */
  function commandOf(argv: string[]): ((launch: Launch, reply: (r: LaunchReply) => void) => Promise<void>) | undefined {
    const at = (flag: string): string | undefined => (argv.includes(flag) ? (argv[argv.indexOf(flag) + 1] ?? '') : undefined);
    if (argv.includes('--list')) {
      // Like `code --list-extensions`: the running instance prints to the launcher's terminal.
      return async (launch, reply) => {
        for (const [i, record] of launches.entries()) launch.stdout.write(`${i + 1}\t${new Date(record.time).toISOString()}\t${JSON.stringify(record.argv)}\n`);
        launch.stderr.write(`${launches.length} launches since ${new Date(status.since).toISOString()}\n`);
        reply({ exitCode: 0 });
      };
    }
    const file = at('--wait');
    if (file !== undefined) {
      // EDITOR="lock-socket-example --wait" for git: the launcher waits until the file is done.
      return async (_launch, reply) => {
        waiting.set(file, reply);
        log('waiting', { file });
      };
    }
    const done = at('--done');
    if (done !== undefined) {
      return async (_launch, reply) => {
        const release = waiting.get(done);
        waiting.delete(done);
        release?.({ exitCode: 0, message: `done with ${done}` });
        reply(release ? { exitCode: 0, message: `released the launch waiting for ${done}` } : { exitCode: 1, message: `nothing waits for ${done}` });
      };
    }
    if (argv.includes('-')) {
      // Like `code -`: the launcher's stdin, read here.
      return async (launch, reply) => {
        const chunks: Buffer[] = [];
        for await (const chunk of launch.stdin) chunks.push(chunk as Buffer);
        const text = Buffer.concat(chunks).toString('utf8');
        log('stdin', { text });
        reply({ exitCode: 0, message: `read ${Buffer.byteLength(text)} bytes of stdin`, data: { text } });
      };
    }
    if (argv.includes('--endless')) {
      // For the tests: output until the launcher goes away.
      return async (launch) => {
        for (let i = 0; !launch.stdout.destroyed; i++) {
          if (!launch.stdout.write(`tick ${i}\n`)) await new Promise((resolve) => launch.stdout.once('drain', resolve).once('close', resolve));
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      };
    }
    return undefined;
  }

  ipcMain.handle('lock-socket-example:quit', () => app.quit());
  ipcMain.handle('lock-socket-example:done', (_event, file: string) => {
    waiting.get(file)?.({ exitCode: 0, message: `done with ${file}` });
    waiting.delete(file);
  });
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', () => log('will-quit'));

  // Never awaited at the top level of an ES module main: Electron emits 'ready' only once the
  // entry module has finished evaluating (docs/electron.md).
  void app.whenReady().then(async () => {
    remoteMain.initialize();
    win = new BrowserWindow({
      width: 760,
      height: 560,
      show: !testMode,
      title: 'lock-socket example',
      webPreferences: {
        preload: fileURLToPath(new URL('./preload.cjs', import.meta.url)),
        contextIsolation: true,
        nodeIntegration: false,
        sandbox: false, // the preload requires @electron/remote, which a sandboxed preload cannot
      },
    });
    // @electron/remote for this window only: other webContents get no remote access.
    remoteMain.enable(win.webContents);
    await win.loadFile(fileURLToPath(new URL('../index.html', import.meta.url)));
    log('started', { ...status, argv: process.argv, runAsNode: process.env['ELECTRON_RUN_AS_NODE'] ?? null });
    // macOS: Finder and links start no second instance; they arrive in the running app, and
    // are shown and focused like a forwarded launch.
    opens.deliverTo((opened) => {
      log(opened.kind, opened);
      const item = opened.kind === 'open-url' ? opened.url : opened.path;
      const deepLink = opened.kind === 'open-url' ? opened.url : undefined;
      show({ argv: [item], cwd: '', data: undefined, pid: process.pid, time: Date.now(), deepLink });
    });
  });
}
