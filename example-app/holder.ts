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
import { focusWindow, getSingleInstance, onSecondInstance, type ElectronLockOptions, type JsonValue } from 'lock-socket/main';

type ElectronMain = Pick<typeof import('electron'), 'app' | 'BrowserWindow' | 'ipcMain'>;

const require = createRequire(import.meta.url);
// @electron/remote has no ESM entry for its main half; require() is how its docs load it.
const remoteMain = require('@electron/remote/main') as typeof import('@electron/remote/main', { with: { 'resolution-mode': 'require' } });

export const SCHEME = 'lock-socket-example';
const testMode = process.env['LOCK_SOCKET_EXAMPLE_TEST'] === '1';

export function log(event: string, fields: Record<string, unknown> = {}): void {
  if (testMode) process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

/** The lock's options, the same for both mains. */
export function lockOptions(): ElectronLockOptions {
  const secretDir = process.env['LOCK_SOCKET_EXAMPLE_SECRET_DIR'] || undefined;
  return {
    port: Number(process.env['LOCK_SOCKET_EXAMPLE_PORT'] ?? 27183),
    appId: 'com.example.lock-socket',
    ...(secretDir ? { secretDir } : {}),
    additionalData: { launchedAt: new Date().toISOString() },
  };
}

interface LaunchRecord {
  argv: string[];
  cwd: string;
  data: JsonValue | undefined;
  pid: number;
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

  onSecondInstance(app, (event, argv, workingDirectory, additionalData, reply) => {
    const deepLink = argv.find((arg) => arg.startsWith(`${SCHEME}://`));
    const data = additionalData as JsonValue | undefined;
    log('second-instance', { argv, cwd: workingDirectory, data, deepLink });
    show({ argv, cwd: workingDirectory, data, pid: event.launch.pid, time: Date.now(), deepLink }, event.launch);
    const message = deepLink ? `opened ${deepLink} in the running window (pid ${process.pid})` : `handed over to the running window (pid ${process.pid}), launch #${launches.length}`;
    reply({ exitCode: 0, message, data: { launch: launches.length } });
    if (argv.includes('--quit')) setImmediate(() => app.quit());
  });

  ipcMain.handle('lock-socket-example:quit', () => app.quit());
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
    log('started', { ...status, argv: process.argv });
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
