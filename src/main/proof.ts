/**
 * Mutual proof of the per-user secret over fresh nonces. Each side proves itself with an HMAC
 * that binds its role, the operation, the appId and both nonces: a proof is worthless on
 * another connection (new nonces), in the other direction (role), or for another app.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { NONCE_BYTES, PROTOCOL_VERSION } from './constants.js';

export type Role = 'holder' | 'launcher';

export function nonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

export function makeProof(
  secret: Buffer,
  role: Role,
  op: string,
  appId: string,
  launcherNonce: Buffer,
  holderNonce: Buffer,
): Buffer {
  return createHmac('sha256', secret)
    .update(`lock-socket/${PROTOCOL_VERSION}\0${role}\0${op}\0`)
    .update(Buffer.from(appId, 'utf8'))
    .update('\0')
    .update(launcherNonce)
    .update(holderNonce)
    .digest();
}

/** Constant-time comparison; false for a missing proof or one of the wrong length. */
export function proofMatches(expected: Buffer, received: Buffer | undefined): boolean {
  return received !== undefined && received.length === expected.length && timingSafeEqual(expected, received);
}
