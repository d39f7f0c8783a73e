/**
 * Mutual proof of the per-user secret over fresh nonces. Each side proves itself with an HMAC
 * that binds its role, the operation, the appId and both nonces: a proof is worthless on
 * another connection (new nonces), in the other direction (role), or for another app.
 */
import type { KeyObject } from 'node:crypto';
import { NONCE_BYTES, PROTOCOL_VERSION } from './constants.js';

// node:crypto is fetched at the first proof or nonce, not imported: it costs ~3 ms to load, and a
// primary needs it only when a second instance first connects, so an app's start never pays it
// (docs/benchmarks.md, P7). A launcher needs it at once and pays the same either way.
const crypto = (): typeof import('node:crypto') => process.getBuiltinModule('node:crypto');

export type Role = 'holder' | 'launcher';

// Nonces come from a pool refilled 128 at a time: one call into the CSPRNG per 128 connections
// instead of one per nonce (randomBytes was ~5% of a forwarded launch). Every slice is handed out
// once and never reused; the pool is replaced, not rewritten.
const POOL_NONCES = 128;
let pool = Buffer.alloc(0);
let offset = 0;

export function nonce(): Buffer {
  if (offset + NONCE_BYTES > pool.length) {
    pool = crypto().randomBytes(NONCE_BYTES * POOL_NONCES);
    offset = 0;
  }
  offset += NONCE_BYTES;
  return pool.subarray(offset - NONCE_BYTES, offset);
}

// The HMAC key as a KeyObject, made once per secret. Node 24.18 to 24.21 at least (24.18 is
// Electron 44's) check a Buffer key for being a KeyObject or a CryptoKey on every createHmac()
// through slow paths: 11 µs per HMAC against 2.5 µs with a KeyObject (Node 20, 22, 24.11 and
// 26: about equal), and a forwarded launch makes four.
// Making a KeyObject costs a few µs, so it is kept for the last secret seen, matched by content
// (a launcher reads the secret into a new Buffer for every launch); a copy is kept, so a caller
// that rewrites its Buffer afterwards gets a key for the new bytes.
let cached: { secret: Buffer; key: KeyObject } | undefined;

function keyOf(secret: Buffer): KeyObject {
  if (cached !== undefined && sameBytes(cached.secret, secret)) return cached.key;
  const key = crypto().createSecretKey(secret);
  cached = { secret: Buffer.from(secret), key };
  return key;
}

export function makeProof(
  secret: Buffer,
  role: Role,
  op: string,
  appId: string,
  launcherNonce: Buffer,
  holderNonce: Buffer,
): Buffer {
  return crypto().createHmac('sha256', keyOf(secret))
    .update(`lock-socket/${PROTOCOL_VERSION}\0${role}\0${op}\0`)
    .update(Buffer.from(appId, 'utf8'))
    .update('\0')
    .update(launcherNonce)
    .update(holderNonce)
    .digest();
}

/** Constant-time comparison; false for a missing proof or one of the wrong length. */
export function proofMatches(expected: Buffer, received: Buffer | undefined): boolean {
  return received !== undefined && sameBytes(expected, received);
}

/** Equal bytes, compared in constant time (timingSafeEqual throws on unequal lengths). */
function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && crypto().timingSafeEqual(a, b);
}
