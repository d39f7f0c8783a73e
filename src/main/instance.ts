/**
 * requestSingleInstance: the first launch takes the lock and serves later launches over it; a
 * later launch forwards its command line to the holder and comes back with the holder's reply.
 */
import { EventEmitter } from 'node:events';
import { debuglog } from 'node:util';
import { ErrorCode, LockSocketError } from '../lock/errors.js';
import { LockSocket } from '../lock/lock-socket.js';
import { defaultAddress, validateAddress, validatePort } from '../lock/address.js';
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_ARG_BYTES,
  DEFAULT_MAX_ARGS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_QUEUE,
  DEFAULT_MAX_UNAUTHENTICATED,
  DEFAULT_REPLY_TIMEOUT_MS,
  DEFAULT_RETRIES,
  LIBRARY_VERSION,
  MAX_APP_ID_BYTES,
} from './constants.js';
import { awaitRelease, forward, HolderGone, queryStatus, type Peer } from './launcher.js';
import { Holder } from './primary.js';
import { loadOrCreateSecret, secretFollower } from './secret.js';
import type { Delivery, HolderStatus, JsonValue, Launch, LaunchReply, ReplyFunction, SecondInstanceListener } from './types.js';

const debug = debuglog('lock-socket');

export interface SingleInstanceOptions {
  /** The lock's port (below 32768, see the README). */
  port: number;
  /** Names the app: a holder only talks to launches of the same appId, and the secret is per appId. */
  appId: string;
  /** Loopback address of the lock; default: per user (see `defaultAddress`). */
  addr?: string;
  /** The command line to forward; default `process.argv`. */
  argv?: string[];
  /** The working directory to forward; default `process.cwd()`. */
  cwd?: string;
  /** Any JSON value to forward with the launch. */
  data?: JsonValue;
  /** Names of environment variables to forward (only those set are sent). Default: none. */
  env?: string[];
  /** Private directory of the per-user secret; default `defaultSecretDir()` (by user and appId). */
  secretDir?: string;
  /** Connect + proof + "accepted", in ms. Default `DEFAULT_HANDSHAKE_TIMEOUT_MS`. */
  handshakeTimeout?: number;
  /** How long a launcher waits for the reply, in ms; `Infinity` waits for ever. Default `DEFAULT_REPLY_TIMEOUT_MS`. */
  replyTimeout?: number;
  /** Instead of forwarding, wait until the holder releases the lock, then become primary. */
  waitForRelease?: boolean;
  /** Called when the holder has accepted the launch, before its reply. */
  onDelivered?: (delivery: Delivery) => void;
  /** Primary: let the held lock keep the process alive. Default false. */
  keepAlive?: boolean;
  /** Launches kept while no 'second-instance' listener is attached. Default `DEFAULT_MAX_QUEUE`. */
  maxQueue?: number;
  /** Largest frame accepted. Default `DEFAULT_MAX_FRAME_BYTES`. */
  maxFrameBytes?: number;
  /** Most arguments a launch may carry. Default `DEFAULT_MAX_ARGS`. */
  maxArgs?: number;
  /** Largest argument (and cwd, env value, reply message), UTF-8 bytes. Default `DEFAULT_MAX_ARG_BYTES`. */
  maxArgBytes?: number;
  /** Connections served at once. Default `DEFAULT_MAX_CONNECTIONS`. */
  maxConnections?: number;
  /** Retries when the lock changes hands between tryLock and connect. Default `DEFAULT_RETRIES`. */
  retries?: number;
}

interface Settings extends Required<Omit<SingleInstanceOptions, 'data' | 'onDelivered' | 'secretDir' | 'env'>> {
  data: JsonValue | undefined;
  onDelivered: ((delivery: Delivery) => void) | undefined;
  secretDir: string | undefined;
  env: Record<string, string>;
}

function invalid(message: string): LockSocketError {
  return new LockSocketError(ErrorCode.EINVALIDOPTION, message);
}

function positive(value: unknown, name: string, fallback: number, allowInfinity = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || (!allowInfinity && !Number.isFinite(value))) {
    throw invalid(`${name} must be a positive number${allowInfinity ? ' or Infinity' : ''}`);
  }
  return value;
}

function settings(options: SingleInstanceOptions): Settings {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object');
  const { appId } = options;
  if (typeof appId !== 'string' || appId.length === 0 || Buffer.byteLength(appId) > MAX_APP_ID_BYTES) {
    throw invalid(`appId must be a non-empty string of at most ${MAX_APP_ID_BYTES} bytes`);
  }
  const argv = options.argv ?? process.argv;
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) throw invalid('argv must be an array of strings');
  const names = options.env ?? [];
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string' && n.length > 0)) throw invalid('env must be an array of variable names');
  const env: Record<string, string> = {};
  for (const name of names) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  if (options.data !== undefined) {
    try {
      JSON.stringify(options.data);
    } catch (cause) {
      throw new LockSocketError(ErrorCode.EINVALIDOPTION, 'data must be JSON-serialisable', { cause });
    }
  }
  const retries = options.retries ?? DEFAULT_RETRIES;
  if (!Number.isInteger(retries) || retries < 0) throw invalid('retries must be a non-negative integer');
  return {
    port: validatePort(options.port),
    appId,
    addr: options.addr === undefined ? defaultAddress() : validateAddress(options.addr),
    argv: [...argv],
    cwd: options.cwd ?? process.cwd(),
    data: options.data,
    env,
    secretDir: options.secretDir,
    handshakeTimeout: positive(options.handshakeTimeout, 'handshakeTimeout', DEFAULT_HANDSHAKE_TIMEOUT_MS),
    replyTimeout: positive(options.replyTimeout, 'replyTimeout', DEFAULT_REPLY_TIMEOUT_MS, true),
    waitForRelease: options.waitForRelease ?? false,
    onDelivered: options.onDelivered,
    keepAlive: options.keepAlive ?? false,
    maxQueue: positive(options.maxQueue, 'maxQueue', DEFAULT_MAX_QUEUE),
    maxFrameBytes: positive(options.maxFrameBytes, 'maxFrameBytes', DEFAULT_MAX_FRAME_BYTES),
    maxArgs: positive(options.maxArgs, 'maxArgs', DEFAULT_MAX_ARGS),
    maxArgBytes: positive(options.maxArgBytes, 'maxArgBytes', DEFAULT_MAX_ARG_BYTES),
    maxConnections: positive(options.maxConnections, 'maxConnections', DEFAULT_MAX_CONNECTIONS),
    retries,
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
  s: Settings;
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

  /** Use `requestSingleInstance`; this constructor is not part of the API. */
  constructor(init: Init) {
    super();
    this.isPrimary = init.isPrimary;
    this.reply = init.reply;
    this.holderPid = init.holderPid;
    this.addr = init.s.addr;
    this.port = init.s.port;
    this.appId = init.s.appId;
    this.#lock = init.lock;
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
    return this.#holder?.startedAt ?? 0;
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
  const s = settings(options);
  const secret = await loadOrCreateSecret(s.appId, s.secretDir);
  let instance: SingleInstance | undefined;
  const currentSecret = secretFollower(s.appId, s.secretDir);
  const holder = new Holder(
    {
      appId: s.appId,
      // Followed at each connection (one lstat unless the file changed); if the file has become
      // unreadable, the secret the holder started with still serves the launches that know it.
      secret: () => {
        try {
          return currentSecret();
        } catch (error) {
          debug('secret unreadable, using the one read at start: %s', (error as Error).message);
          return secret;
        }
      },
      limits: { maxArgs: s.maxArgs, maxArgBytes: s.maxArgBytes },
      maxFrameBytes: s.maxFrameBytes,
      handshakeTimeout: s.handshakeTimeout,
      maxConnections: s.maxConnections,
      maxUnauthenticated: DEFAULT_MAX_UNAUTHENTICATED,
      maxQueue: s.maxQueue,
      keepAlive: s.keepAlive,
      version: LIBRARY_VERSION,
    },
    (error) => {
      if (instance && instance.listenerCount('error') > 0) instance.emit('error', error);
    },
  );
  const lock = new LockSocket({ port: s.port, addr: s.addr, keepAlive: s.keepAlive, onConnection: holder.handleConnection });
  const peer: Peer = { addr: s.addr, port: s.port, appId: s.appId, maxFrameBytes: s.maxFrameBytes, handshakeTimeout: s.handshakeTimeout };

  let lastGone: HolderGone | undefined;
  for (let attempt = 0; attempt <= s.retries; attempt++) {
    if (attempt > 0) await backoff(attempt - 1);
    if (await lock.tryLock()) {
      holder.startedAt = Date.now();
      debug('primary on %s:%d', s.addr, s.port);
      instance = new SingleInstance({ isPrimary: true, reply: undefined, holderPid: process.pid, s, lock, holder });
      return instance;
    }
    try {
      if (s.waitForRelease) {
        await awaitRelease({ ...peer, secret });
        attempt = -1; // a release starts a fresh round of attempts
        continue;
      }
      const { reply, holderPid } = await forward({ ...peer, secret, argv: s.argv, cwd: s.cwd, data: s.data, env: s.env, replyTimeout: s.replyTimeout, onDelivered: s.onDelivered });
      return new SingleInstance({ isPrimary: false, reply, holderPid, s, lock: undefined, holder: undefined });
    } catch (error) {
      if (!(error instanceof HolderGone)) throw error;
      debug('holder gone (%s), trying the lock again', error.message);
      lastGone = error;
    }
  }
  throw lastGone?.refused === false
    ? new LockSocketError(ErrorCode.EFOREIGN, `${s.addr}:${s.port} is held, but whatever holds it closes connections without a handshake`)
    : new LockSocketError(ErrorCode.ERETRIES, `${s.addr}:${s.port} kept changing hands: neither locked nor reached after ${s.retries + 1} attempts`);
}

export interface StatusOptions {
  port: number;
  addr?: string;
  /** With an appId the holder must prove itself (`verified`); without, its answer is unverified. */
  appId?: string;
  secretDir?: string;
  handshakeTimeout?: number;
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
  const port = validatePort(options.port);
  // Validated here too: a status query connects without ever building a LockSocket, and must
  // never reach beyond loopback either.
  const addr = options.addr === undefined ? defaultAddress() : validateAddress(options.addr);
  const appId = options.appId ?? '';
  const secret = appId === '' ? undefined : await loadOrCreateSecret(appId, options.secretDir);
  const handshakeTimeout = positive(options.handshakeTimeout, 'handshakeTimeout', DEFAULT_HANDSHAKE_TIMEOUT_MS);
  try {
    return await queryStatus({ addr, port, appId, maxFrameBytes: DEFAULT_MAX_FRAME_BYTES, handshakeTimeout }, secret);
  } catch (error) {
    if (error instanceof HolderGone) {
      if (error.refused) return undefined;
      throw new LockSocketError(ErrorCode.EFOREIGN, `${addr}:${port} closed the connection without a handshake`);
    }
    throw error;
  }
}
