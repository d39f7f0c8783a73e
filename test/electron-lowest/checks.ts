// The adapter against the lowest Electron of the peer range (VERSION; refreshed by
// scripts/electron-lowest.mjs): compiled by `npm test` with this folder's tsconfig, where
// 'electron' is that version's electron.d.ts (an ambient module) and not the installed one.
import type { App, BrowserWindow } from 'electron';
import { focusWindow, onSecondInstance, requestSingleInstanceLock } from '../../src/main/electron.js';
import type { ElectronApp, ElectronSecondInstanceListener, FocusableWindow } from '../../src/main/electron.js';

export async function checks(app: App, win: BrowserWindow): Promise<void> {
  const adapted: ElectronApp = app;
  const focusable: FocusableWindow = win;
  if (await requestSingleInstanceLock(app, { port: 27182, appId: 'com.example.app', additionalData: { n: 1 } })) {
    onSecondInstance(app, (event, argv, workingDirectory, additionalData, reply) => {
      focusWindow(win, event.launch);
      reply({ exitCode: 0, message: `${argv.length} ${workingDirectory} ${JSON.stringify(additionalData)}` });
    });
    const typed: ElectronSecondInstanceListener = (_event, _argv, _cwd, _data, reply) => reply({ exitCode: 0 });
    app.on('second-instance', typed);
    app.on('second-instance', (event, argv, workingDirectory, additionalData) => void [event, argv, workingDirectory, additionalData]);
  }
  void [adapted, focusable];
}
