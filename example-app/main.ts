/**
 * The example app's main process, as an ES module: a single-instance Electron app on lock-socket.
 * main-cjs.cts is the same app as a CommonJS main; holder.ts is what the holder does.
 *
 * The lock is awaited at the top level, which is fine: it resolves on its own. `ready` is not:
 * Electron emits it only after this module has finished evaluating, so awaiting it here would
 * wait for ever (holder.ts waits for it in a callback instead).
 */
import electron from 'electron';
import { requestSingleInstanceLock } from 'lock-socket/main';
import { listenEarly, lockOptions, log, startHolder } from './holder.js';

const { app } = electron;
const opens = listenEarly(app);

try {
  if (await requestSingleInstanceLock(app, lockOptions())) startHolder(electron, opens);
  // else: forwarded. The adapter printed the holder's answer and ends this launch with its exit
  // code at `ready`; nothing else to do, and no window to open.
} catch (error) {
  // Neither holder nor forwarded (e.g. a foreign program on the port): the adapter printed the
  // error and ends this launch at `ready` with solo's exit code for it (75, 78 or 71).
  log('lock-failed', { code: (error as { code?: string }).code });
}
