/**
 * Which loopback address a lock binds, and which addresses are acceptable at all.
 *
 * Everything here is pure once its inputs are given, so the per-user scheme can be tested
 * over synthetic platforms and uids without owning those uids.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { userInfo } from 'node:os';
import { ErrorCode, LockSocketError } from './errors.js';

/** The address every host configures: a lock on it is one per machine, whoever the user. */
export const SYSTEM_ADDRESS = '127.0.0.1';

/**
 * Platforms whose loopback interface carries only 127.0.0.1 (a /32 on lo0, not a /8): binding
 * 127.X.Y.1 fails with EADDRNOTAVAIL there, so the default lock is system-wide.
 */
const SINGLE_LOOPBACK_PLATFORMS: ReadonlySet<string> = new Set(['darwin', 'freebsd', 'openbsd', 'netbsd', 'sunos', 'aix']);

/** True where only 127.0.0.1 exists, so the address cannot tell users apart (see {@link defaultAddress}). */
export function isSingleLoopbackPlatform(platform: NodeJS.Platform | string): boolean {
  return SINGLE_LOOPBACK_PLATFORMS.has(platform);
}

/** The largest uid the per-user scheme can place: (uid >> 16) + 1 must stay within 2..254. */
export const MAX_SCHEME_UID = 254 * 65536 - 1;

export interface DefaultAddressInput {
  platform?: NodeJS.Platform;
  uid?: number;
  username?: string;
}

/**
 * The default lock address for a user.
 *
 * - Linux and other unixes with a 127.0.0.0/8 loopback: uid 0..65535 → `127.X.Y.1` with X.Y the
 *   high and low byte of the uid (Perl Lock::Socket's scheme, so both agree on the same lock;
 *   root gets 127.0.0.1). Larger uids up to {@link MAX_SCHEME_UID} → `127.X.Y.Z` with X.Y the
 *   low 16 bits and Z = (uid >> 16) + 1, which is 2..254 and so never meets the `.1` of a small
 *   uid nor another large uid. Beyond that: `EUIDRANGE` (sharing an address silently would make
 *   two users' locks one lock).
 * - macOS and the BSDs: {@link SYSTEM_ADDRESS}, a system-wide lock.
 * - Windows: no numeric uid, so X.Y are the first two bytes of sha256(lower-cased user name).
 *
 * Pure when every input is given; otherwise the missing ones come from `process` and `os`.
 *
 * @example defaultAddress({ platform: 'linux', uid: 1000 }) //=> '127.3.232.1'
 */
export function defaultAddress(input: DefaultAddressInput = {}): string {
  const platform = input.platform ?? process.platform;
  if (SINGLE_LOOPBACK_PLATFORMS.has(platform)) return SYSTEM_ADDRESS;
  if (platform === 'win32') {
    const username = input.username ?? userInfo().username;
    // node:crypto is slow to load and only Windows needs it here: fetched on demand, so loading
    // the lock on Linux and macOS never pays for it (docs/benchmarks.md: P7, "Issue 15").
    const { createHash } = process.getBuiltinModule('node:crypto');
    const digest = createHash('sha256').update(username.toLowerCase(), 'utf8').digest();
    return `127.${digest[0]}.${digest[1]}.1`;
  }
  const uid = input.uid ?? process.getuid?.();
  if (uid === undefined) {
    throw new LockSocketError(ErrorCode.EUIDRANGE, `no uid on platform ${platform}: pass an explicit addr`);
  }
  return uidAddress(uid);
}

function uidAddress(uid: number): string {
  if (!Number.isInteger(uid) || uid < 0 || uid > MAX_SCHEME_UID) {
    throw new LockSocketError(
      ErrorCode.EUIDRANGE,
      `uid ${uid} is outside the per-user address scheme (0..${MAX_SCHEME_UID}): pass an explicit addr`,
    );
  }
  const x = (uid >> 8) & 255;
  const y = uid & 255;
  const z = uid <= 65535 ? 1 : (uid >> 16) + 1;
  return `127.${x}.${y}.${z}`;
}

/**
 * Checks that `addr` is a numeric loopback address and returns it normalised (IPv6 compressed
 * and lower-cased; an IPv4-mapped address keeps its dotted tail). Names such as `localhost`
 * are refused rather than resolved: a lookup could answer with anything, and the lock must
 * never listen beyond the loopback.
 *
 * @throws LockSocketError `EINVALIDADDR` when `addr` is not a numeric IP, `ENOTLOOPBACK` when it is not loopback.
 */
export function validateAddress(addr: string): string {
  if (typeof addr !== 'string') {
    throw new LockSocketError(ErrorCode.EINVALIDADDR, `address must be a string, got ${typeof addr}`);
  }
  // IPv4 first: V8 compiles isIPv6's large regex on first use, which every start would pay
  // (bench P7, end to end), and the default addresses are IPv4.
  if (isIPv4(addr)) {
    if (addr.startsWith('127.')) return addr;
    throw notLoopback(addr);
  }
  if (!isIPv6(addr) || addr.includes('%')) {
    throw new LockSocketError(
      ErrorCode.EINVALIDADDR,
      `${JSON.stringify(addr)} is not a numeric IP address (names are never resolved; zone ids are not supported)`,
    );
  }
  const normal = normaliseIPv6(addr);
  if (normal === '::1') return normal;
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(normal);
  if (mapped) {
    const high = Number.parseInt(mapped[1] ?? '', 16);
    const low = Number.parseInt(mapped[2] ?? '', 16);
    if (high >> 8 === 127) return `::ffff:${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  throw notLoopback(addr);
}

function normaliseIPv6(addr: string): string {
  // The WHATWG URL parser implements RFC 5952 canonical form; isIPv6 already vouched for the syntax.
  return new URL(`http://[${addr}]/`).hostname.slice(1, -1);
}

function notLoopback(addr: string): LockSocketError {
  return new LockSocketError(
    ErrorCode.ENOTLOOPBACK,
    `${addr} is not a loopback address (127.0.0.0/8, ::1 or ::ffff:127.x.y.z): a lock never listens on the network`,
  );
}

/**
 * Checks a port: an integer from 1 to 65535 (a number, not a numeric string).
 *
 * @throws LockSocketError `EINVALIDPORT`
 */
export function validatePort(port: unknown): number {
  if (typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535) return port;
  const shown = typeof port === 'string' ? JSON.stringify(port) : String(port);
  throw new LockSocketError(ErrorCode.EINVALIDPORT, `port must be an integer from 1 to 65535, got ${shown}`);
}

/** `addr:port`, with IPv6 in brackets, for messages. */
export function formatEndpoint(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}
