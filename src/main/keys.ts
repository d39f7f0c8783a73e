/**
 * The key schedule of protocol 2: from the per-user secret (a pre-shared key) and one handshake,
 * the two proofs and the two per-direction sealing keys of that connection. Pure: no sockets.
 *
 * It has the shape of TLS 1.3's PSK-only handshake (RFC 8446 §2.2 and §7.1, psk_ke mode: no
 * (EC)DHE): the PSK is the only key input; everything derived is bound to a hash of the
 * handshake transcript; each side proves itself with a Finished MAC, the holder first; records
 * are sealed with an AEAD under per-direction keys, with sequence-number nonces (seal.ts).
 * What it leaves out, and why, is in docs/protocol.md ("Key schedule").
 *
 * The transcript binds the protocol version, the appId and both nonces (they are in the HELLO
 * and CHALLENGE bytes) and the endpoint: the address:port the launcher dialled, and the one the
 * holder listens on, each side putting in its own. A relay between two ports therefore leaves the
 * two sides with different keys, and the holder's proof fails before the launcher sends anything.
 */
import type { KeyObject } from 'node:crypto';
import { NONCE_BYTES, PROTOCOL_VERSION } from './constants.js';

// node:crypto is fetched at the first handshake, not imported: loading it is most of a primary's
// start, and a primary needs it only when a second instance first connects (docs/benchmarks.md:
// P7's end-to-end note, "Issue 15").
const crypto = (): typeof import('node:crypto') => process.getBuiltinModule('node:crypto');

/** Bytes of a proof (an HMAC-SHA256) and of each sealing key (AES-256). */
export const PROOF_BYTES = 32;
export const KEY_BYTES = 32;

const LABEL = `lock-socket/${PROTOCOL_VERSION}`;

/** A fresh random nonce for one handshake. */
export function nonce(): Buffer {
  return crypto().randomBytes(NONCE_BYTES);
}

/** The secret as a key object, made where the secret is read (one per read, not per proof). */
export function secretKey(secret: Buffer): KeyObject {
  return crypto().createSecretKey(secret);
}

/**
 * SHA-256 over the label, the endpoint as this side sees it, and the HELLO and CHALLENGE bytes as
 * sent or received. Each part is length-prefixed, so no two transcripts share an encoding.
 */
export function transcriptHash(endpoint: string, hello: Buffer, challengeBody: Buffer): Buffer {
  const hash = crypto().createHash('sha256');
  for (const part of [Buffer.from(LABEL, 'latin1'), Buffer.from(endpoint, 'latin1'), hello, challengeBody]) {
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(part.length, 0);
    hash.update(length).update(part);
  }
  return hash.digest();
}

/** What one handshake yields, the same on both sides when both know the secret and saw the same transcript. */
export interface Keys {
  /** The holder's Finished MAC: HMAC(holder finished key, transcript hash). */
  holderProof: Buffer;
  /** The launcher's Finished MAC: HMAC(launcher finished key, transcript hash ‖ holder proof). */
  launcherProof: Buffer;
  /** Seals holder → launcher. */
  holderKey: KeyObject;
  /** Seals launcher → holder. */
  launcherKey: KeyObject;
}

/**
 * HKDF-SHA256 (RFC 5869) with the secret as input key material and the transcript hash as salt,
 * expanded to four 32-byte keys: two Finished keys and two sealing keys.
 */
export function deriveKeys(secret: KeyObject, th: Buffer): Keys {
  const c = crypto();
  const okm = Buffer.from(c.hkdfSync('sha256', secret, th, `${LABEL} keys`, 4 * KEY_BYTES));
  // Each key as a KeyObject: Node 24 checks a Buffer key through slow paths in every
  // createHmac() and createCipheriv() (docs/benchmarks.md, round 5).
  const key = (i: number): KeyObject => c.createSecretKey(okm.subarray(i * KEY_BYTES, (i + 1) * KEY_BYTES));
  const holderProof = c.createHmac('sha256', key(0)).update(th).digest();
  const launcherProof = c.createHmac('sha256', key(1)).update(th).update(holderProof).digest();
  return { holderProof, launcherProof, holderKey: key(2), launcherKey: key(3) };
}

/** Constant-time comparison; false for a missing proof or one of the wrong length. */
export function proofMatches(expected: Buffer, received: Buffer | undefined): boolean {
  return received !== undefined && received.length === expected.length && crypto().timingSafeEqual(expected, received);
}
