/**
 * forwardLaunch: hand this launch to the app's running instance, without ever taking the lock —
 * what an app's command-line entry does before starting the GUI (VS Code's `code` does the same
 * for its editor; docs/cli.md).
 */
import type { KeyObject } from 'node:crypto';
import { formatEndpoint } from '../lock/address.js';
import { ErrorCode, LockSocketError, noListenerMessage } from './errors.js';
import { isHeld } from '../lock/probe.js';
import { backoff, forwardRequest, peerAt } from './claim.js';
import { debug } from './debug.js';
import { forward } from './launcher.js';
import { resolveOptions, type SingleInstanceOptions } from './options.js';
import { readKey } from './secret.js';
import type { LaunchReply } from './types.js';

/**
 * Forwards this launch to the running instance of the app and resolves with its reply — after
 * the holder's output for it (`launch.stdout`, `launch.stderr`) has been written to `stdout` and
 * `stderr` — or with `undefined` when no instance runs. It never takes the lock: when it resolves
 * `undefined` the lock is free (and stays free), and the caller starts the app, which takes it.
 * Rejects with the codes of `requestSingleInstance` otherwise (ENOLISTENER, EFOREIGN, EAUTH,
 * EHANDSHAKETIMEOUT, EINDOUBT, EREPLYTIMEOUT, …). Takes the same options, but `waitForRelease`.
 *
 * @example
 * ```ts
 * const reply = await forwardLaunch({ appId: 'com.example.app', argv: process.argv, cwd: process.cwd() });
 * if (reply) process.exit(reply.exitCode); // a holder ran it and answered
 * // undefined: no instance runs; start the GUI
 * ```
 */
export async function forwardLaunch(options: SingleInstanceOptions): Promise<LaunchReply | undefined> {
  const s = resolveOptions(options);
  if (s.waitForRelease) throw new LockSocketError(ErrorCode.EINVALIDOPTION, 'forwardLaunch never takes the lock, so it cannot wait for it: use requestSingleInstance');
  let secret: KeyObject | undefined;
  let free = false;
  let notOurs: LockSocketError | undefined;
  for (const endpoint of s.endpoints) {
    const peer = peerAt(s, endpoint);
    const where = formatEndpoint(endpoint.addr, endpoint.port);
    let refusedInARow = 0;
    for (let attempt = 0; attempt <= s.retries; attempt++) {
      if (attempt > 0) await backoff(attempt - 1);
      const outcome = await forward(forwardRequest(s, peer, (secret ??= readKey(s.appId, s.secretDir))));
      if (outcome.kind === 'replied') return outcome.reply;
      if (outcome.kind === 'foreign') {
        notOurs = outcome.error;
        break;
      }
      if (!outcome.refused) {
        refusedInARow = 0;
        continue; // a holder releasing, or one starting: try again
      }
      // Nobody listens: free, or held by a socket that accepts nothing. Only a listen tells.
      if (!(await isHeld(endpoint.port, endpoint.addr))) {
        debug('%s is free', where);
        free = true;
        break;
      }
      if (++refusedInARow >= 2) {
        notOurs = new LockSocketError(ErrorCode.ENOLISTENER, noListenerMessage(endpoint.addr, endpoint.port));
        break;
      }
    }
  }
  if (free) return undefined;
  throw notOurs ?? new LockSocketError(ErrorCode.ERETRIES, `the app's lock kept changing hands: neither free nor reached after ${s.retries + 1} attempts`);
}
