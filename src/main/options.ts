/**
 * One resolver for the options of `requestSingleInstance` and `instanceStatus`: every option is
 * checked before any I/O, and a wrong one is EINVALIDOPTION (or the lock's own EINVALIDPORT,
 * EINVALIDADDR, ENOTLOOPBACK), never a surprise later — after a launch was delivered, say.
 */
import { lockEndpoints, type LockEndpoint } from '../lock/endpoints.js';
import { ErrorCode, LockSocketError } from './errors.js';
import { MAX_APP_ID_BYTES, MAX_HANDSHAKE_FRAME_BYTES } from './constants.js';
import { defaults } from './defaults.js';
import type { Readable, Writable } from 'node:stream';
import type { Delivery, JsonValue, LaunchData } from './types.js';

export interface SingleInstanceOptions {
  /** Names the app: a holder only talks to launches of the same appId, and the secret is per appId. */
  appId: string;
  /**
   * The lock's port (below 32768). Default: derived from the appId (and, where the address cannot
   * tell users apart, the user), with alternatives (docs/addresses.md).
   */
  port?: number;
  /** Loopback address of the lock, shared by every user who names it; default: per user (see `lockEndpoints`). */
  addr?: string;
  /**
   * How many alternative ports follow the first, tried in the same order by every instance when
   * an unrelated program sits on one. Default `defaults.alternatives` (4) when the port is derived, 0 when
   * it is given.
   */
  alternatives?: number;
  /** The command line to forward; default `process.argv`. */
  argv?: string[];
  /** The working directory to forward; default `process.cwd()`. */
  cwd?: string;
  /** Any JSON value to forward with the launch. */
  data?: JsonValue;
  /** Names of environment variables to forward (only those set are sent). Default: none. */
  env?: string[];
  /** Where the holder's output for this launch goes (`launch.stdout`). Default `process.stdout`. */
  stdout?: Writable;
  /** Where the holder's `launch.stderr` goes. Default `process.stderr`. */
  stderr?: Writable;
  /** Sent to the holder as `launch.stdin` (e.g. `process.stdin`, for `myapp -`). Default: none. */
  stdin?: Readable;
  /** Private directory of the per-user secret; default `defaultSecretDir()` (by user and appId). */
  secretDir?: string;
  /** Connect + proofs + "accepted", in ms. Default `defaults.handshakeTimeout`. */
  handshakeTimeout?: number;
  /** How long a launcher waits for the reply, in ms; `Infinity` waits for ever. Default `defaults.replyTimeout`. */
  replyTimeout?: number;
  /** Instead of forwarding, wait until the holder releases the lock, then become primary. */
  waitForRelease?: boolean;
  /**
   * Called once the holder has proved itself, right before the launch is sent to it (on Windows
   * the Electron adapter grants the holder foreground rights here).
   */
  onProven?: (holder: { holderPid: number }) => void;
  /** Called when the holder has accepted the launch, before its reply. */
  onDelivered?: (delivery: Delivery) => void;
  /**
   * Primary: the held lock keeps the process alive even while no 'second-instance' listener is
   * attached (with one attached, it always does). Default false.
   */
  keepAlive?: boolean;
  /** Launches kept while no 'second-instance' listener is attached. Default `defaults.maxQueue`. */
  maxQueue?: number;
  /** Largest frame accepted from a proven peer. Default `defaults.maxFrameBytes`. */
  maxFrameBytes?: number;
  /** Most arguments a launch may carry. Default `defaults.maxArgs`. */
  maxArgs?: number;
  /** Largest argument (and cwd, env value, reply message), UTF-8 bytes. Default `defaults.maxArgBytes`. */
  maxArgBytes?: number;
  /** Connections served at once. Default `defaults.maxConnections`. */
  maxConnections?: number;
  /** Retries when the lock changes hands between tryLock and connect. Default `defaults.retries`. */
  retries?: number;
}

export interface StatusOptions {
  /** The lock's port; default: derived from `appId`, as for `requestSingleInstance`. */
  port?: number;
  addr?: string;
  /** With an appId the holder must prove itself (`verified`); without, its answer is unverified. */
  appId?: string;
  secretDir?: string;
  handshakeTimeout?: number;
}

/**
 * Everything `requestSingleInstance` needs, checked; the launch it would send (env: the variables
 * to forward, read from process.env).
 */
export interface Settings extends Omit<LaunchData, 'pid'> {
  appId: string;
  /** Where the lock may be, in the order every instance tries them. */
  endpoints: LockEndpoint[];
  /** Undefined: process.stdout / process.stderr, looked up only when a launch is forwarded. */
  stdout: Writable | undefined;
  stderr: Writable | undefined;
  stdin: Readable | undefined;
  secretDir: string | undefined;
  handshakeTimeout: number;
  replyTimeout: number;
  waitForRelease: boolean;
  onProven: ((holder: { holderPid: number }) => void) | undefined;
  onDelivered: ((delivery: Delivery) => void) | undefined;
  keepAlive: boolean;
  maxQueue: number;
  maxFrameBytes: number;
  maxArgs: number;
  maxArgBytes: number;
  maxConnections: number;
  retries: number;
}

export interface StatusSettings {
  appId: string;
  endpoints: LockEndpoint[];
  secretDir: string | undefined;
  handshakeTimeout: number;
}

function invalid(message: string, cause?: unknown): LockSocketError {
  return new LockSocketError(ErrorCode.EINVALIDOPTION, message, cause === undefined ? undefined : { cause });
}

function object(options: unknown): Record<string, unknown> {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object such as { port: 27182, appId: "com.example.app" }');
  return options as Record<string, unknown>;
}

function appIdOf(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || Buffer.byteLength(value) > MAX_APP_ID_BYTES) {
    throw invalid(`appId must be a non-empty string of at most ${MAX_APP_ID_BYTES} bytes`);
  }
  return value;
}

// Node runs a longer timer after 1 ms (TimeoutOverflowWarning): a launcher would time out at
// once, a holder drop every connection.
const MAX_TIMER_MS = 2 ** 31 - 1;
// A frame's length is a u32: a larger maximum could not be honoured, and a holder refuses it.
const MAX_FRAME_LENGTH = 2 ** 32 - 1;

function number(value: unknown, name: string, fallback: number, rule: { integer?: boolean; min?: number; max?: number; infinity?: boolean } = {}): number {
  if (value === undefined) return fallback;
  const { integer = false, min = 0, max = Number.MAX_SAFE_INTEGER, infinity = false } = rule;
  const ok =
    typeof value === 'number' &&
    (value === Infinity ? infinity : Number.isFinite(value) && (!integer || Number.isInteger(value)) && value <= max) &&
    (min === 0 ? value > 0 : value >= min);
  if (!ok) {
    const what = `${integer ? 'an integer' : 'a number'} ${min === 0 ? 'above 0' : `of at least ${min}`}${max < Number.MAX_SAFE_INTEGER ? ` and at most ${max}` : ''}${infinity ? ', or Infinity' : ''}`;
    throw invalid(`${name} must be ${what}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
  }
  return value as number;
}

function boolean(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalid(`${name} must be true or false`);
  return value;
}

function string(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw invalid(`${name} must be a non-empty string`);
  return value;
}

export function resolveOptions(options: SingleInstanceOptions): Settings {
  const o = object(options);
  const argv = o['argv'] ?? process.argv;
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) throw invalid('argv must be an array of strings');
  const names = o['env'] ?? [];
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string' && n.length > 0 && !n.includes('='))) {
    throw invalid('env must be an array of environment variable names');
  }
  const env: Record<string, string> = {};
  for (const name of names as string[]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  const data = o['data'] as JsonValue | undefined;
  if (data !== undefined) {
    let encoded: string | undefined;
    try {
      encoded = JSON.stringify(data);
    } catch (cause) {
      throw invalid('data must be JSON-serialisable', cause);
    }
    if (encoded === undefined) throw invalid('data must be JSON-serialisable (a function or a symbol is not)');
  }
  for (const name of ['stdout', 'stderr']) {
    if (o[name] !== undefined && typeof (o[name] as Writable | null)?.write !== 'function') throw invalid(`${name} must be a writable stream`);
  }
  if (o['stdin'] !== undefined && typeof (o['stdin'] as Readable | null)?.read !== 'function') throw invalid('stdin must be a readable stream');
  for (const name of ['onProven', 'onDelivered']) {
    if (o[name] !== undefined && typeof o[name] !== 'function') throw invalid(`${name} must be a function`);
  }
  const retries = o['retries'] ?? defaults.retries;
  if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 0) throw invalid('retries must be a non-negative integer');
  const appId = appIdOf(o['appId']);
  return {
    appId,
    endpoints: endpointsOf(appId, o),
    argv: [...argv],
    cwd: string(o['cwd'], 'cwd') ?? process.cwd(),
    data,
    env,
    stdout: o['stdout'] as Writable | undefined,
    stderr: o['stderr'] as Writable | undefined,
    stdin: o['stdin'] as Readable | undefined,
    secretDir: string(o['secretDir'], 'secretDir'),
    handshakeTimeout: number(o['handshakeTimeout'], 'handshakeTimeout', defaults.handshakeTimeout, { max: MAX_TIMER_MS }),
    replyTimeout: number(o['replyTimeout'], 'replyTimeout', defaults.replyTimeout, { max: MAX_TIMER_MS, infinity: true }),
    waitForRelease: boolean(o['waitForRelease'], 'waitForRelease'),
    onProven: o['onProven'] as Settings['onProven'],
    onDelivered: o['onDelivered'] as Settings['onDelivered'],
    keepAlive: boolean(o['keepAlive'], 'keepAlive'),
    maxQueue: number(o['maxQueue'], 'maxQueue', defaults.maxQueue, { integer: true }),
    maxFrameBytes: number(o['maxFrameBytes'], 'maxFrameBytes', defaults.maxFrameBytes, { integer: true, min: MAX_HANDSHAKE_FRAME_BYTES, max: MAX_FRAME_LENGTH }),
    maxArgs: number(o['maxArgs'], 'maxArgs', defaults.maxArgs, { integer: true }),
    maxArgBytes: number(o['maxArgBytes'], 'maxArgBytes', defaults.maxArgBytes, { integer: true }),
    maxConnections: number(o['maxConnections'], 'maxConnections', defaults.maxConnections, { integer: true }),
    retries,
  };
}

/** The lock's endpoints: port, address and alternatives checked here, once (lockEndpoints). */
function endpointsOf(appId: string, o: Record<string, unknown>): LockEndpoint[] {
  const { port, addr, alternatives } = o as { port?: number; addr?: string; alternatives?: number };
  return lockEndpoints({
    appId,
    ...(port === undefined ? {} : { port }),
    ...(addr === undefined ? {} : { addr }),
    ...(alternatives === undefined ? {} : { alternatives }),
  });
}

export function resolveStatusOptions(options: StatusOptions): StatusSettings {
  const o = object(options);
  const appId = o['appId'] === undefined ? '' : appIdOf(o['appId']);
  if (appId === '' && o['port'] === undefined) throw invalid('instanceStatus needs a port, or an appId to derive it from');
  return {
    appId,
    // Without an appId the port is given, and the first endpoint of a given port does not depend
    // on the appId (docs/addresses.md): any name gives the same one.
    endpoints: endpointsOf(appId || 'status', o),
    secretDir: string(o['secretDir'], 'secretDir'),
    handshakeTimeout: number(o['handshakeTimeout'], 'handshakeTimeout', defaults.handshakeTimeout, { max: MAX_TIMER_MS }),
  };
}
