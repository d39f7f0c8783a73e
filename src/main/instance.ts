/**
 * requestSingleInstance: the first launch takes the lock and serves later launches over it; a
 * later launch forwards its command line to the holder and comes back with the holder's reply.
 */
import type { KeyObject } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { formatEndpoint } from '../lock/address.js';
import { ErrorCode, LockSocketError } from '../lock/errors.js';
import { LockSocket } from '../lock/lock-socket.js';
import { DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_ARG_BYTES, DEFAULT_MAX_UNAUTHENTICATED, LIBRARY_VERSION } from './constants.js';
import { debug } from './debug.js';
import { secretKey } from './keys.js';
import { awaitRelease, forward, queryStatus, type Gone, type Peer } from './launcher.js';
import { resolveOptions, resolveStatusOptions, type Settings, type SingleInstanceOptions, type StatusOptions } from './options.js';
import { Holder } from './primary.js';
import { loadOrCreateSecretSync, secretFollower } from './secret.js';
import type { HolderStatus, Launch, LaunchReply, ReplyFunction, SecondInstanceListener } from './types.js';

export type { SingleInstanceOptions, StatusOptions } from './options.js';

/** The secret of `appId` as a key, read (or created) now: what a launcher proves itself with. */
function readKey(appId: string, dir: string | undefined): KeyObject {
  return secretKey(dir === undefined ? loadOrCreateSecretSync(appId) : loadOrCreateSecretSync(appId, dir));
}

/**
 * For a holder: the current secret as a key, read again only when its file changed (deleted and
 * recreated, replaced); the key is made once per read. If the file has become unreadable, the
 * last secret read still serves the launches that know it.
 */
function followKey(appId: string, dir: string | undefined): () => KeyObject {
  const follow = dir === undefined ? secretFollower(appId) : secretFollower(appId, dir);
  let last: { secret: Buffer; key: KeyObject } | undefined;
  return () => {
    let secret: Buffer;
    try {
      secret = follow();
    } catch (error) {
      if (last === undefined) throw error;
      debug('secret unreadable, using the last one read: %s', (error as Error).message);
      return last.key;
    }
    if (last?.secret !== secret) last = { secret, key: secretKey(secret) };
    return last.key;
  };
}

/**
 * Pauses between attempts, 2, 4, 8, … ms: short first, because a holder that was just killed is
 * usually gone within a few ms (its socket may still accept, then reset), and long enough in
 * sum (~250 ms over DEFAULT_RETRIES) to cover the kernel's teardown on a loaded machine.
 */
function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(2 * 2 ** attempt, 200)));
}

interface Init {
  isPrimary: boolean;
  reply: LaunchReply | undefined;
  holderPid: number;
  appId: string;
  lock: LockSocket;
  holder: Holder | undefined;
}

export interface SingleInstance {
  on(event: 'second-instance', listener: SecondInstanceListener): this;
  on(event: 'error', listener: (error: unknown) => void): this;
  once(event: 'second-instance', listener: SecondInstanceListener): this;
  off(event: 'second-instance', listener: SecondInstanceListener): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

/**
 * The outcome of `requestSingleInstance`. As primary it emits 'second-instance'
 * `(launch, reply)` for every forwarded launch; launches that arrive while no listener is
 * attached wait in a bounded queue. As a forwarded launch it carries the holder's `reply`.
 */
export class SingleInstance extends EventEmitter implements AsyncDisposable {
  readonly isPrimary: boolean;
  /** The holder's answer (forwarded launch only). */
  readonly reply: LaunchReply | undefined;
  /** The holder's pid (`process.pid` when primary). */
  readonly holderPid: number;
  readonly addr: string;
  readonly port: number;
  readonly appId: string;
  readonly #lock: LockSocket | undefined;
  readonly #holder: Holder | undefined;
  #closing: Promise<void> | undefined;

  /** Use `requestSingleInstance`; this constructor is not part of the API. */
  constructor(init: Init) {
    super();
    this.isPrimary = init.isPrimary;
    this.reply = init.reply;
    this.holderPid = init.holderPid;
    this.addr = init.lock.addr;
    this.port = init.lock.port;
    this.appId = init.appId;
    this.#lock = init.isPrimary ? init.lock : undefined;
    this.#holder = init.holder;
    const holder = init.holder;
    if (holder) {
      // The first listener opens the gate (after it is really attached: newListener fires before).
      this.on('newListener', (event) => {
        if (event === 'second-instance' && this.listenerCount('second-instance') === 0) {
          queueMicrotask(() => holder.setDispatch(this.#dispatch));
        }
      });
      this.on('removeListener', (event) => {
        if (event === 'second-instance' && this.listenerCount('second-instance') === 0) holder.setDispatch(undefined);
      });
    }
  }

  /** Launches waiting for a 'second-instance' listener. */
  get queued(): number {
    return this.#holder?.queueLength ?? 0;
  }

  /** When the lock was taken (ms since the epoch); 0 for a forwarded launch. */
  get startedAt(): number {
    return this.#holder?.settings.startedAt ?? 0;
  }

  readonly #dispatch = (launch: Launch, reply: ReplyFunction): unknown => {
    const results = this.listeners('second-instance').map((listener) => (listener as SecondInstanceListener).call(this, launch, reply));
    return results.some((r) => r instanceof Promise) ? Promise.all(results) : undefined;
  };

  /** Primary: stop serving and release the lock (waiters take over). Idempotent; no-op otherwise. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#holder?.release();
      await this.#lock?.unlock();
      debug('released %s:%d', this.addr, this.port);
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Takes the lock and resolves as primary, or forwards this launch to the holder and resolves
 * with its reply. Rejects with a LockSocketError (a `code` from the README's table) otherwise:
 * a launch is never dropped silently.
 *
 * @example
 * ```ts
 * const instance = await requestSingleInstance({ port: 27182, appId: 'com.example.app' });
 * if (instance.isPrimary) {
 *   instance.on('second-instance', (launch, reply) => reply({ exitCode: 0, message: `opened ${launch.argv[2]}` }));
 * } else {
 *   instance.reply; //=> { exitCode: 0, message: 'opened notes.txt' }
 * }
 * ```
 */
export async function requestSingleInstance(options: SingleInstanceOptions): Promise<SingleInstance> {
  const s = resolveOptions(options);
  let holder: Holder | undefined;
  const lock = new LockSocket({ port: options.port, addr: options.addr, keepAlive: s.keepAlive, onConnection: (socket) => holder?.handleConnection(socket) });
  const peer: Peer = { addr: lock.addr, port: lock.port, appId: s.appId, maxFrameBytes: s.maxFrameBytes, maxArgBytes: s.maxArgBytes, handshakeTimeout: s.handshakeTimeout };
  // The lock needs no secret: a primary reads it when the first launcher arrives, a launcher
  // before its first attempt to forward.
  let secret: KeyObject | undefined;
  let lastGone: Gone | undefined;
  for (let attempt = 0; attempt <= s.retries; attempt++) {
    if (attempt > 0) await backoff(attempt - 1);
    if (await lock.tryLock()) {
      debug('primary on %s', formatEndpoint(lock.addr, lock.port));
      let instance: SingleInstance | undefined;
      holder = primaryHolder(s, lock, (error) => {
        if (instance && instance.listenerCount('error') > 0) instance.emit('error', error);
      });
      instance = new SingleInstance({ isPrimary: true, reply: undefined, holderPid: process.pid, appId: s.appId, lock, holder });
      return instance;
    }
    secret ??= readKey(s.appId, s.secretDir);
    if (s.waitForRelease) {
      const waited = await awaitRelease({ ...peer, secret });
      if (waited.kind === 'released') attempt = -1; // a release starts a fresh round of attempts
      else lastGone = waited;
      continue;
    }
    const forwarded = await forward({ ...peer, secret, argv: s.argv, cwd: s.cwd, data: s.data, env: s.env, replyTimeout: s.replyTimeout, onProven: s.onProven, onDelivered: s.onDelivered });
    if (forwarded.kind === 'replied') {
      return new SingleInstance({ isPrimary: false, reply: forwarded.reply, holderPid: forwarded.holderPid, appId: s.appId, lock, holder: undefined });
    }
    debug('holder gone (%s), trying the lock again', forwarded.refused ? 'refused' : 'closed');
    lastGone = forwarded;
  }
  const where = formatEndpoint(lock.addr, lock.port);
  throw lastGone?.refused === false
    ? new LockSocketError(ErrorCode.EFOREIGN, `${where} is held, but whatever holds it closes connections without a handshake`)
    : new LockSocketError(ErrorCode.ERETRIES, `${where} kept changing hands: neither locked nor reached after ${s.retries + 1} attempts`);
}

function primaryHolder(s: Settings, lock: LockSocket, onHandlerError: (error: unknown) => void): Holder {
  return new Holder(
    {
      appId: s.appId,
      endpoint: formatEndpoint(lock.addr, lock.port),
      secret: followKey(s.appId, s.secretDir),
      limits: { maxArgs: s.maxArgs, maxArgBytes: s.maxArgBytes },
      maxFrameBytes: s.maxFrameBytes,
      handshakeTimeout: s.handshakeTimeout,
      version: LIBRARY_VERSION,
      pid: process.pid,
      startedAt: Date.now(),
      maxConnections: s.maxConnections,
      maxUnauthenticated: DEFAULT_MAX_UNAUTHENTICATED,
      maxQueue: s.maxQueue,
      keepAlive: s.keepAlive,
    },
    onHandlerError,
  );
}

/**
 * Who holds the lock, or undefined when nobody does. Takes nothing and sends no argv.
 *
 * @example
 * ```ts
 * await instanceStatus({ port: 27182, appId: 'com.example.app' });
 * //=> { addr: '127.0.0.1', port: 27182, pid: 4242, appId: 'com.example.app', version: '0.1.0', startedAt: 1764140000000, verified: true }
 * ```
 */
export async function instanceStatus(options: StatusOptions): Promise<HolderStatus | undefined> {
  const s = resolveStatusOptions(options);
  // Built for its checks: a status query connects without taking the lock, but must never reach
  // beyond loopback either.
  const lock = new LockSocket({ port: options.port, addr: options.addr });
  const secret = s.appId === '' ? undefined : readKey(s.appId, s.secretDir);
  const peer: Peer = { addr: lock.addr, port: lock.port, appId: s.appId, maxFrameBytes: DEFAULT_MAX_FRAME_BYTES, maxArgBytes: DEFAULT_MAX_ARG_BYTES, handshakeTimeout: s.handshakeTimeout };
  const answer = await queryStatus(peer, secret);
  if (answer.kind === 'status') return answer.status;
  if (answer.refused) return undefined;
  throw new LockSocketError(ErrorCode.EFOREIGN, `${formatEndpoint(lock.addr, lock.port)} closed the connection without a handshake`);
}
