/**
 * The example app's main process: a single-instance Electron app on lock-socket.
 *
 * A real app imports the adapter as `lock-socket/main`; this one compiles the library from ../src
 * so that it runs and packages straight from this repository.
 *
 * Test mode (LOCK_SOCKET_EXAMPLE_TEST=1): one JSON line per event on stdout, no protocol
 * registration, hidden window; a launch with `--quit` among its arguments ends the holder.
 */
import { app, BrowserWindow, ipcMain } from 'electron';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { focusWindow, getSingleInstance, onSecondInstance, requestSingleInstanceLock } from '../src/main/electron.js';
import type { JsonValue } from '../src/main/types.js';

const require = createRequire(import.meta.url);
// @electron/remote has no ESM entry for its main half; require() is how its docs load it.
const remoteMain = require('@electron/remote/main') as typeof import('@electron/remote/main', { with: { 'resolution-mode': 'require' } });

const SCHEME = 'lock-socket-example';
const testMode = process.env['LOCK_SOCKET_EXAMPLE_TEST'] === '1';
const port = Number(process.env['LOCK_SOCKET_EXAMPLE_PORT'] ?? 27183);
const secretDir = process.env['LOCK_SOCKET_EXAMPLE_SECRET_DIR'] || undefined;

function log(event: string, fields: Record<string, unknown> = {}): void {
  if (testMode) process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

process.on('uncaughtException', (error) => {
  // Never leave a hung Electron behind a test: report and exit.
  log('crash', { message: String(error) });
  app.exit(70);
});

const isPrimary = await requestSingleInstanceLock(app, {
  port,
  appId: 'com.example.lock-socket',
  ...(secretDir ? { secretDir } : {}),
  additionalData: { launchedAt: new Date().toISOString() },
});

if (isPrimary) {
  const instance = getSingleInstance(app)!;
  const status = { addr: instance.addr, port: instance.port, pid: instance.holderPid, since: instance.startedAt };
  interface LaunchRecord {
    argv: string[];
    cwd: string;
    data: JsonValue | undefined;
    pid: number;
    time: number;
    deepLink: string | undefined;
  }
  const launches: LaunchRecord[] = [];
  let win: BrowserWindow | undefined;

  // Read by the renderer through @electron/remote (see preload.cts).
  (globalThis as { lockSocketExample?: unknown }).lockSocketExample = { status, launches };

  if (!testMode) {
    // In development Electron runs as `electron path/to/app`: register with that path so the OS
    // starts this app, not a bare Electron, for lock-socket-example:// links.
    if (process.defaultApp && process.argv[1] !== undefined) {
      app.setAsDefaultProtocolClient(SCHEME, process.execPath, [fileURLToPath(new URL('../../', import.meta.url))]);
    } else {
      app.setAsDefaultProtocolClient(SCHEME);
    }
  }

  onSecondInstance(app, (event, argv, workingDirectory, additionalData, reply) => {
    const deepLink = argv.find((arg) => arg.startsWith(`${SCHEME}://`));
    const record: LaunchRecord = {
      argv,
      cwd: workingDirectory,
      data: additionalData as JsonValue | undefined,
      pid: event.launch.pid,
      time: Date.now(),
      deepLink,
    };
    launches.push(record);
    log('second-instance', { argv, cwd: workingDirectory, data: additionalData as JsonValue, deepLink });
    win?.webContents.send('launch', record);
    if (win) focusWindow(win, event.launch);
    const message = deepLink ? `opened ${deepLink} in the running window (pid ${process.pid})` : `handed over to the running window (pid ${process.pid}), launch #${launches.length}`;
    reply({ exitCode: 0, message, data: { launch: launches.length } });
    if (argv.includes('--quit')) setImmediate(() => app.quit());
  });

  // macOS: Finder and links start no second instance; they arrive here in the running app.
  app.on('open-url', (event, url) => {
    event.preventDefault();
    launches.push({ argv: [url], cwd: '', data: undefined, pid: process.pid, time: Date.now(), deepLink: url });
    log('open-url', { url });
  });
  app.on('open-file', (event, path) => {
    event.preventDefault();
    log('open-file', { path });
  });

  ipcMain.handle('lock-socket-example:quit', () => app.quit());
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', () => log('will-quit'));

  await app.whenReady();
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
  await win.loadFile(fileURLToPath(new URL('../../index.html', import.meta.url)));
  log('started', { ...status, argv: process.argv });
}
