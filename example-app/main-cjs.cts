/**
 * The example app as a CommonJS main (run it as `electron example-app/dist/main-cjs.cjs`).
 *
 * In a CommonJS main Electron emits `ready` as soon as this file has run, usually before the lock
 * request has been answered, so nothing may create a window on `ready` by itself: everything
 * waits for the lock in `main()`, and only the holder waits for `ready` (holder.ts) and opens a
 * window. `app.whenReady().then(createWindow)` at the top level would open one in every launch.
 */
// require() of the ES modules lock-socket/main and holder.js: Node ≥ 20.19 / 22.12 (Electron ≥ 35).
const electron = require('electron') as typeof import('electron', { with: { 'resolution-mode': 'require' } });
const lockSocket = require('lock-socket/main') as typeof import('lock-socket/main');
const holder = require('./holder.js') as typeof import('./holder.js');

const opens = holder.listenEarly(electron.app);

async function main(): Promise<void> {
  if (await lockSocket.requestSingleInstanceLock(electron.app, holder.lockOptions())) holder.startHolder(electron, opens);
  // else: forwarded; the adapter ends this launch with the holder's exit code
}

main().catch((error: unknown) => {
  // printed by the adapter, which ends this launch with solo's exit code for the error
  holder.log('lock-failed', { code: (error as { code?: string }).code });
});
