/**
 * Which (address, port) pairs an app's lock lives on, without anyone picking a port: the first
 * is the normal one, the rest are alternatives that every instance of the same app tries in the
 * same order when an unrelated program happens to sit on the first. docs/addresses.md explains
 * the scheme; this file is its definition.
 *
 * Pure once platform, uid and username are given, so every platform's scheme is tested here.
 *
 * **Frozen.** Every instance of an app, whichever lock-socket version it runs, must compute the
 * same list, or a later launch looks for the holder where it is not and becomes a second
 * primary. The hash, its input strings, the range and the skipped ports below are therefore
 * part of the protocol: test/lock/endpoints.test.ts pins their output, and a change needs a new
 * version tag in {@link TAG} and a migration story, not an edit.
 */
import { SYSTEM_ADDRESS, MAX_SCHEME_UID, defaultAddress, isSingleLoopbackPlatform, validateAddress, validatePort } from './address.js';
import { ErrorCode, LockSocketError } from './errors.js';
import { fnv1a64Bits } from './hash.js';

/** Lowest derived port: below it, binding needs privileges on Unix. */
export const DERIVED_PORT_MIN = 1024;
/**
 * Highest derived port: Linux lends 32768-60999 to outgoing connections, Windows and macOS
 * 49152-65535, and a port lent that way looks held (README, "Ports").
 */
export const DERIVED_PORT_MAX = 32767;
/** Alternatives after the first endpoint when the port is derived (none when it is given). */
export const ALTERNATIVE_PORTS = 4;
/** Most alternatives one may ask for: a launch against squatters tries each in turn. */
export const MAX_ALTERNATIVE_PORTS = 16;

/** Version tag hashed into every derived port; see "Frozen" above. */
const TAG = 'lock-socket/port/v1';
const SPAN = BigInt(DERIVED_PORT_MAX - DERIVED_PORT_MIN + 1);

/**
 * Ports never derived, because programs on a developer's or user's machine commonly listen
 * there: an app would lose its first choice to them far more often than to a random port.
 * SOCKS, MSSQL, Oracle, MQTT, NFS, Docker, dev servers (3000, 3001, 4000, 4200, 5173, 8000, ...),
 * MySQL, RDP, Flask and macOS's AirPlay receiver (5000, 7000), Postgres, AMQP, VNC, X11
 * (6000-6063), Redis, Kubernetes, Kafka, Elasticsearch, Node's inspector, git, memcached, MongoDB.
 */
const SKIPPED: ReadonlySet<number> = new Set([
  1080, 1433, 1521, 1883, 2049, 2375, 2376, 3000, 3001, 3306, 3389, 4000, 4200, 5000, 5001, 5173, 5432, 5672, 5900,
  ...Array.from({ length: 64 }, (_, i) => 6000 + i),
  6379, 6443, 7000, 8000, 8008, 8080, 8081, 8088, 8443, 8888, 9000, 9090, 9092, 9200, 9229, 9418, 11211, 27017,
]);

export interface LockEndpoint {
  addr: string;
  port: number;
}

export interface LockEndpointsInput {
  /** Names the app; the derived ports come from it. Required, non-empty. */
  appId: string;
  /** A port chosen by the app: used as given (or, per user on macOS/BSD, mapped); default: derived. */
  port?: number;
  /** An explicit loopback address: one lock for everyone who names it (machine-wide). */
  addr?: string;
  /** The machine-wide lock on {@link SYSTEM_ADDRESS}, whoever the user. Excludes `addr`. */
  system?: boolean;
  /**
   * How many alternatives follow the first endpoint. Default 4 when the
   * port is derived, 0 when `port` is given (then the lock is that port, as `solo PORT` and
   * Perl's Lock::Socket expect). A shorter list is a prefix of a longer one.
   */
  alternatives?: number;
  platform?: NodeJS.Platform;
  uid?: number;
  /** Windows: the user name behind the per-user address (default `os.userInfo().username`). */
  username?: string;
}

/**
 * How the lock tells users apart: by address (Linux, Windows), by port (only 127.0.0.1 exists),
 * or not at all (an explicit address or `system`: machine-wide). `key` starts every hash input,
 * so two scopes never derive their ports from the same string.
 */
type Scope = { addr: string; key: string[]; userPort: boolean };

/**
 * The endpoints of an app's lock, first the normal one, then the alternatives in the order every
 * instance of the same app tries them.
 *
 * - Linux and other unixes with a 127.0.0.0/8 loopback, and Windows: the per-user address of
 *   {@link defaultAddress}; the port is `port`, or derived from `appId` alone (the address
 *   already keeps users apart).
 * - macOS and the BSDs (only 127.0.0.1), and Linux uids beyond {@link MAX_SCHEME_UID}:
 *   127.0.0.1 and a per-user port, derived from `appId` and the uid, or from `port` and the uid
 *   when a port is given (so each user's `port` is a lock of its own, as Perl's
 *   `lock_user_socket` meant with port + uid, without its overflow past 65535 and its collisions
 *   between port P of uid U + 1 and port P + 1 of uid U).
 * - `addr` or `system`: that address (127.0.0.1 for `system`) and `port`, or a port derived from
 *   `appId` alone: one lock for every user of the machine.
 *
 * Derived ports lie in {@link DERIVED_PORT_MIN}..{@link DERIVED_PORT_MAX}, skip ports that common
 * local servers use, and never repeat within a list.
 *
 * @throws LockSocketError `EINVALIDOPTION` (appId, alternatives, system with addr),
 *   `EINVALIDPORT`, `EINVALIDADDR`, `ENOTLOOPBACK`, `EUIDRANGE` (no uid on this platform).
 * @example
 * ```ts
 * lockEndpoints({ appId: 'com.example.app', platform: 'linux', uid: 1000 });
 * //=> [{ addr: '127.3.232.1', port: <derived> }, ...4 alternatives on the same address]
 * lockEndpoints({ appId: 'com.example.app', port: 5197, platform: 'darwin', uid: 501 });
 * //=> [{ addr: '127.0.0.1', port: <5197 mapped for uid 501> }]
 * lockEndpoints({ appId: 'com.example.app', port: 5197, system: true });
 * //=> [{ addr: '127.0.0.1', port: 5197 }]
 * ```
 */
export function lockEndpoints(input: LockEndpointsInput): LockEndpoint[] {
  if (typeof input !== 'object' || input === null) throw invalid("input must be an object such as { appId: 'com.example.app' }");
  const { appId } = input;
  if (typeof appId !== 'string' || appId.length === 0) throw invalid('appId must be a non-empty string');
  const port = input.port === undefined ? undefined : validatePort(input.port);
  const alternatives = input.alternatives ?? (port === undefined ? ALTERNATIVE_PORTS : 0);
  if (!Number.isInteger(alternatives) || alternatives < 0 || alternatives > MAX_ALTERNATIVE_PORTS) {
    throw invalid(`alternatives must be an integer from 0 to ${MAX_ALTERNATIVE_PORTS}`);
  }
  const scope = lockScope(input);
  const seen = new Set<number>();
  const endpoints: LockEndpoint[] = [];
  const push = (p: number): void => {
    seen.add(p);
    endpoints.push({ addr: scope.addr, port: p });
  };

  if (port === undefined) {
    // The first endpoint is index 0 of the app's own sequence; alternatives continue it.
    const sequence = derivedPorts([...scope.key, 'app', appId], seen);
    for (let i = 0; i <= alternatives; i++) push(sequence.next().value);
    return endpoints;
  }
  // A given port: itself where the address tells users apart, else this user's image of it.
  push(scope.userPort ? derivedPorts([...scope.key, 'port', String(port)], seen).next().value : port);
  const sequence = derivedPorts([...scope.key, 'app', appId, 'port', String(port)], seen);
  for (let i = 0; i < alternatives; i++) push(sequence.next().value);
  return endpoints;
}

function lockScope(input: LockEndpointsInput): Scope {
  if (input.system !== undefined && typeof input.system !== 'boolean') throw invalid('system must be a boolean');
  if (input.system && input.addr !== undefined) throw invalid('addr and system exclude each other: system means 127.0.0.1');
  // An explicit address is a lock anyone who names it shares: the same key for every user.
  if (input.system) return { addr: SYSTEM_ADDRESS, key: ['machine'], userPort: false };
  if (input.addr !== undefined) return { addr: validateAddress(input.addr), key: ['machine'], userPort: false };

  const platform = input.platform ?? process.platform;
  if (platform === 'win32') {
    const addr = defaultAddress(input.username === undefined ? { platform } : { platform, username: input.username });
    return { addr, key: ['user'], userPort: false };
  }
  const uid = input.uid ?? process.getuid?.();
  if (uid === undefined || !Number.isInteger(uid) || uid < 0 || uid > 0xffffffff) {
    throw new LockSocketError(ErrorCode.EUIDRANGE, `no usable uid (${String(uid)}) on platform ${platform}: pass an explicit addr`);
  }
  // Where the address cannot tell users apart (only 127.0.0.1 exists, or the uid is too large
  // for the address scheme), the port must: the uid goes into every derived port.
  if (isSingleLoopbackPlatform(platform) || uid > MAX_SCHEME_UID) {
    return { addr: SYSTEM_ADDRESS, key: ['uid', String(uid)], userPort: true };
  }
  return { addr: defaultAddress({ platform, uid }), key: ['user'], userPort: false };
}

/**
 * The ports derived from `parts`, index 0, 1, 2, ...: each is FNV-1a 64 of the tagged,
 * NUL-separated input, mixed, reduced into the range. Ports in `seen` or {@link SKIPPED} are
 * passed over (and the next index taken), so a list never repeats a port.
 */
function* derivedPorts(parts: string[], seen: ReadonlySet<number>): Generator<number, never> {
  for (let index = 0; ; index++) {
    const text = [TAG, ...parts, String(index)].join('\0');
    const port = DERIVED_PORT_MIN + Number(mix64(fnv1a64Bits(text)) % SPAN);
    if (!seen.has(port) && !SKIPPED.has(port)) yield port;
  }
}

/**
 * MurmurHash3's 64-bit finalizer: FNV-1a's low bits depend little on the last bytes of its
 * input, and inputs here differ mostly at the end (index, uid, port); this spreads every input
 * bit over the whole word before the reduction.
 */
function mix64(value: bigint): bigint {
  let k = value;
  k = BigInt.asUintN(64, (k ^ (k >> 33n)) * 0xff51afd7ed558ccdn);
  k = BigInt.asUintN(64, (k ^ (k >> 33n)) * 0xc4ceb9fe1a85ec53n);
  return k ^ (k >> 33n);
}

function invalid(message: string): LockSocketError {
  return new LockSocketError(ErrorCode.EINVALIDOPTION, message);
}
