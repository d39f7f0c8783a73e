/**
 * Finding an app's lock: walk its endpoints (`lockEndpoints`: the normal one, then the
 * alternatives every instance tries in the same order) and, at each, take the lock or reach its
 * holder. docs/addresses.md ("The alternatives") describes the walk; in short:
 *
 * - taken: before serving from it, look at the endpoints after it for a holder of this app (one
 *   that settled there while a squatter sat on this one), and go there if there is one;
 * - held by this user's instance of this app: forward the launch to it (or wait for its release);
 * - held by anything that is provably not that — another protocol (EFOREIGN), another app or
 *   another secret (EFOREIGN, EAUTH), a socket that accepts no connections (ENOLISTENER) — step
 *   to the next endpoint; on the last one, `waitForRelease` polls until it is free;
 * - anything else (a frozen holder: EHANDSHAKETIMEOUT; ETOOMANYCONNECTIONS; EINDOUBT…) ends the launch with its code:
 *   stepping past it could start a second copy of the app.
 */
import type { KeyObject } from 'node:crypto';
import type { Socket } from 'node:net';
import type { LockEndpoint } from '../lock/endpoints.js';
import { ErrorCode, LockSocketError, noListenerMessage } from './errors.js';
import { formatEndpoint } from '../lock/address.js';
import { LockSocket } from '../lock/lock-socket.js';
import { isHeld } from '../lock/probe.js';
import { debug } from './debug.js';
import { awaitRelease, forward, queryStatus, type ForwardRequest, type Peer } from './launcher.js';
import type { Settings } from './options.js';
import type { LaunchReply } from './types.js';

export type Claimed =
  | { kind: 'primary'; lock: LockSocket }
  | { kind: 'replied'; reply: LaunchReply; holderPid: number; endpoint: LockEndpoint };

/** What one endpoint came to. */
type AtEndpoint = Claimed | { kind: 'foreign'; error: LockSocketError };

export interface ClaimOptions {
  s: Settings;
  endpoints: LockEndpoint[];
  /** Receives the connections of the lock taken, once the holder serves (destroyed before). */
  onConnection: (socket: Socket) => void;
  /** The secret as a key, read at its first use. */
  secret: () => KeyObject;
}

/**
 * Pauses between attempts on one endpoint, 2, 4, 8, … ms: short first, because a holder that was
 * just killed is usually gone within a few ms (its socket may still accept, then reset), and long
 * enough in sum (~250 ms over DEFAULT_RETRIES) to cover the kernel's teardown on a loaded machine.
 */
export function backoff(attempt: number, cap = 200): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(2 * 2 ** attempt, cap)));
}

/** What forward() needs for a launch of `s` to `peer`. */
export function forwardRequest(s: Settings, peer: Peer, secret: KeyObject): ForwardRequest {
  const { argv, cwd, data, env, replyTimeout, onProven, onDelivered, stdin } = s;
  return { ...peer, secret, argv, cwd, data, env, replyTimeout, onProven, onDelivered, stdin, stdout: s.stdout ?? process.stdout, stderr: s.stderr ?? process.stderr };
}

export function peerAt(s: Settings, endpoint: LockEndpoint): Peer {
  return { ...endpoint, appId: s.appId, maxFrameBytes: s.maxFrameBytes, maxArgBytes: s.maxArgBytes, handshakeTimeout: s.handshakeTimeout };
}

/** Takes the app's lock, or forwards to (or waits for) its holder. Rejects with a LockSocketError. */
export async function claim(o: ClaimOptions): Promise<Claimed> {
  let notOurs: LockSocketError | undefined;
  for (let i = 0; i < o.endpoints.length; i++) {
    const endpoint = o.endpoints[i] as LockEndpoint;
    const last = i === o.endpoints.length - 1;
    const at = await claimAt(o, endpoint, last);
    if (at.kind === 'foreign') {
      debug('%s is not ours (%s): %s', formatEndpoint(endpoint.addr, endpoint.port), at.error.code, last ? 'no endpoint left' : 'next endpoint');
      notOurs = at.error;
      continue;
    }
    if (at.kind === 'primary' && !last) {
      const later = await laterHolder(o, i + 1);
      if (later !== undefined) {
        debug('an instance already holds %s: going there', formatEndpoint(later.addr, later.port));
        await at.lock.unlock();
        i = o.endpoints.indexOf(later) - 1;
        continue;
      }
    }
    return at;
  }
  throw notOurs as LockSocketError;
}

async function claimAt(o: ClaimOptions, endpoint: LockEndpoint, last: boolean): Promise<AtEndpoint> {
  const { s } = o;
  const lock = new LockSocket({ ...endpoint, keepAlive: s.keepAlive, onConnection: o.onConnection });
  const peer = peerAt(s, endpoint);
  let refusedInARow = 0;
  let closedWithoutHandshake = false;
  for (let attempt = 0; attempt <= s.retries; attempt++) {
    if (attempt > 0) await backoff(attempt - 1);
    if (await lock.tryLock()) return { kind: 'primary', lock };
    const outcome = s.waitForRelease ? await awaitRelease({ ...peer, secret: o.secret() }) : await forward(forwardRequest(s, peer, o.secret()));
    switch (outcome.kind) {
      case 'foreign':
        return notOurs(lock, last, s.waitForRelease, outcome.error);
      case 'replied':
        return { kind: 'replied', reply: outcome.reply, holderPid: outcome.holderPid, endpoint };
      case 'released':
        attempt = -1; // a release starts a fresh round of attempts
        refusedInARow = 0;
        continue;
      case 'gone':
        // Refused while a listen fails: nobody listens, yet the port is held, twice in a row —
        // a holder that only binds (Perl's Lock::Socket), not one that just went away.
        if (outcome.refused && ++refusedInARow >= 2) {
          return notOurs(lock, last, s.waitForRelease, new LockSocketError(ErrorCode.ENOLISTENER, noListenerMessage(endpoint.addr, endpoint.port)));
        }
        if (!outcome.refused) {
          refusedInARow = 0;
          closedWithoutHandshake = true;
        }
        debug('holder gone (%s), trying the lock again', outcome.refused ? 'refused' : 'closed');
    }
  }
  const where = formatEndpoint(endpoint.addr, endpoint.port);
  if (closedWithoutHandshake) {
    const error = new LockSocketError(ErrorCode.EFOREIGN, `${where} is held, but whatever holds it closes connections without a handshake`);
    // Not stepped past: an instance of this app that is still starting (looking at the endpoints
    // after its own) closes connections the same way, and stepping past it could start a second
    // one. On the last endpoint, waitForRelease still waits it out.
    if (!last) throw error;
    return notOurs(lock, last, s.waitForRelease, error);
  }
  throw new LockSocketError(ErrorCode.ERETRIES, `${where} kept changing hands: neither locked nor reached after ${s.retries + 1} attempts`);
}

/**
 * A holder that is not this app's. With `waitForRelease`, on the last endpoint, the launch waits
 * until the port is free: such a holder cannot say when it releases, so the port is polled, with
 * a backoff from 10 ms to 1 s (docs/addresses.md).
 */
async function notOurs(lock: LockSocket, last: boolean, waitForRelease: boolean, error: LockSocketError): Promise<AtEndpoint> {
  if (!last || !waitForRelease) return { kind: 'foreign', error };
  debug('%s: polling until it is free', error.code);
  for (let attempt = 0; ; attempt++) {
    await backoff(Math.min(attempt + 2, 10), 1000);
    if (await lock.tryLock()) return { kind: 'primary', lock };
  }
}

/**
 * Another endpoint after `from` held by this user's instance of this app, if any. Cheap when
 * there is none: a listen that succeeds (and is closed at once) says a port is free. A holder
 * that does not prove itself quickly is not waited for: it is not provably ours.
 */
async function laterHolder(o: ClaimOptions, from: number): Promise<LockEndpoint | undefined> {
  for (const endpoint of o.endpoints.slice(from)) {
    if (!(await isHeld(endpoint.port, endpoint.addr))) continue;
    const peer = { ...peerAt(o.s, endpoint), handshakeTimeout: Math.min(o.s.handshakeTimeout, LATER_HOLDER_TIMEOUT_MS) };
    const answer = await queryStatus(peer, o.secret()).catch(() => undefined);
    if (answer?.kind === 'status' && answer.status.verified) return endpoint;
  }
  return undefined;
}

/** How long a primary waits for a later endpoint's holder to prove itself before it serves. */
const LATER_HOLDER_TIMEOUT_MS = 500;
