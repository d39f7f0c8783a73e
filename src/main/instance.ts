/**
 * requestSingleInstance: the first launch takes the lock and serves later launches over it; a
 * later launch forwards its command line to the holder and comes back with the holder's reply.
 */
import type { KeyObject } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { formatEndpoint } from '../lock/address.js';
import { ErrorCode, LockSocketError, noListenerMessage } from './errors.js';
import type { LockEndpoint } from '../lock/endpoints.js';
import type { LockSocket } from '../lock/lock-socket.js';
import { isHeld } from '../lock/probe.js';
import { DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_ARG_BYTES, DEFAULT_MAX_UNAUTHENTICATED, LIBRARY_VERSION } from './constants.js';
import { debug } from './debug.js';
import { secretKey } from './keys.js';
import { claim } from './claim.js';
import { queryStatus, type Peer } from './launcher.js';
import { resolveOptions, resolveStatusOptions, type Settings, type SingleInstanceOptions, type StatusOptions } from './options.js';
import { Holder } from './primary.js';
import { readKey, secretFollower } from './secret.js';
import type { HolderStatus, Launch, LaunchReply, ReplyFunction, SecondInstanceListener } from './types.js';

export type { SingleInstanceOptions, StatusOptions } from './options.js';

/**
 * For a holder: the current secret as a key, read again only when its file changed (deleted and
 * recreated, replaced); the key is made once per read. If the file has become unreadable, the
 * last secret read still serves the launches that know it.
 */
function followKey(appId: string, dir: string | undefined): () => KeyObject {
  const follow = secretFollower(appId, dir);
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

interface Init {
  isPrimary: boolean;
  reply: LaunchReply | undefined;
  holderPid: number;
  appId: string;
  /** The lock's address and port: the one taken, or the one the launch was forwarded to. */
  endpoint: LockEndpoint;
  lock: LockSocket | undefined;
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

  /** @internal Use `requestSingleInstance`: this constructor takes internal types, and stripInternal keeps it out of the .d.ts. */
  constructor(init: Init) {
    super();
    this.isPrimary = init.isPrimary;
    this.reply = init.reply;
    this.holderPid = init.holderPid;
    this.addr = init.endpoint.addr;
    this.port = init.endpoint.port;
    this.appId = init.appId;
    this.#lock = init.lock;
    this.#holder = init.holder;
    const holder = init.holder;
    if (holder) {
      // A primary that listens for launches serves them: while a 'second-instance' listener is
      // attached, the lock keeps the process alive (a plain-Node holder would otherwise exit at
      // the end of its script, its lock with it). Without one, the lock alone does not, unless
      // `keepAlive`: a held lock must never be what keeps a finished program running.
      const serving = (on: boolean): void => {
        if (!holder.settings.keepAlive) init.lock?.server?.[on ? 'ref' : 'unref']();
      };
      // The first listener opens the gate (after it is really attached: newListener fires before).
      this.on('newListener', (event) => {
        if (event === 'second-instance' && this.listenerCount('second-instance') === 0) {
          serving(true);
          queueMicrotask(() => holder.setDispatch(this.#dispatch));
        }
      });
      this.on('removeListener', (event) => {
        if (event === 'second-instance' && this.listenerCount('second-instance') === 0) {
          serving(false);
          holder.setDispatch(undefined);
        }
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
      debug('released %s', formatEndpoint(this.addr, this.port));
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
  // The lock needs no secret: a primary reads it when the first launcher comes, a launcher before
  // its first attempt to forward.
  let secret: KeyObject | undefined;
  const claimed = await claim({
    s,
    endpoints: s.endpoints,
    // Until the holder serves (the instant the lock is taken, or after a look at the later
    // endpoints), a connection is closed before any byte: its launcher tries again.
    onConnection: (socket) => (holder ? holder.handleConnection(socket) : socket.destroy()),
    secret: () => (secret ??= readKey(s.appId, s.secretDir)),
  });
  if (claimed.kind === 'replied') {
    const { reply, holderPid, endpoint } = claimed;
    return new SingleInstance({ isPrimary: false, reply, holderPid, appId: s.appId, endpoint, lock: undefined, holder: undefined });
  }
  const { lock } = claimed;
  debug('primary on %s', formatEndpoint(lock.addr, lock.port));
  let instance: SingleInstance | undefined;
  holder = primaryHolder(s, lock, (error) => {
    if (instance && instance.listenerCount('error') > 0) instance.emit('error', error);
  });
  instance = new SingleInstance({ isPrimary: true, reply: undefined, holderPid: process.pid, appId: s.appId, endpoint: lock, lock, holder });
  return instance;
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
  const secret = s.appId === '' ? undefined : readKey(s.appId, s.secretDir);
  const single = s.endpoints.length === 1;
  for (const endpoint of s.endpoints) {
    const where = formatEndpoint(endpoint.addr, endpoint.port);
    const peer: Peer = { ...endpoint, appId: s.appId, maxFrameBytes: DEFAULT_MAX_FRAME_BYTES, maxArgBytes: DEFAULT_MAX_ARG_BYTES, handshakeTimeout: s.handshakeTimeout };
    let answer: Awaited<ReturnType<typeof queryStatus>>;
    try {
      answer = await queryStatus(peer, secret);
    } catch (error) {
      // Derived ports: a holder of another version of the app is passed, as a squatter would be.
      if (single || !(error instanceof LockSocketError) || error.code !== ErrorCode.EVERSION) throw error;
      continue;
    }
    if (answer.kind === 'foreign') {
      // Derived ports: somebody else on one of the app's ports.
      if (single) throw answer.error;
      continue;
    }
    if (answer.kind === 'status') {
      if (single || answer.status.verified) return answer.status;
      continue;
    }
    if (!answer.refused) {
      if (single) throw new LockSocketError(ErrorCode.EFOREIGN, `${where} closed the connection without a handshake`);
      continue;
    }
    // Refused: free, or held by a socket that accepts nothing; only a listen tells them apart
    // (it takes the lock for a moment when it is free: see isHeld). Held after a refusal may
    // also be a holder that took the lock in between: asked once more, it answers.
    if (single && (await isHeld(endpoint.port, endpoint.addr))) {
      const again = await queryStatus(peer, secret).catch(() => undefined);
      if (again?.kind === 'status') return again.status;
      throw new LockSocketError(ErrorCode.ENOLISTENER, noListenerMessage(endpoint.addr, endpoint.port));
    }
  }
  return undefined;
}
