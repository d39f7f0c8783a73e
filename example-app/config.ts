/**
 * What the app's GUI (main.ts, main-cjs.cts) and its command line (cli.ts) share: one appId and
 * one lock, so that the command line finds the GUI's instance. No Electron import here: the
 * command line runs in Node mode, where there is no Electron API.
 */
export const APP_ID = 'com.example.lock-socket';

/**
 * The lock's options for both sides. The port is derived from the appId (with alternatives) unless
 * LOCK_SOCKET_EXAMPLE_PORT names one (the tests do, to stay in their port block).
 */
export function lockTarget(): { appId: string; port?: number; secretDir?: string } {
  const port = process.env['LOCK_SOCKET_EXAMPLE_PORT'];
  const secretDir = process.env['LOCK_SOCKET_EXAMPLE_SECRET_DIR'] || undefined;
  return { appId: APP_ID, ...(port ? { port: Number(port) } : {}), ...(secretDir ? { secretDir } : {}) };
}
