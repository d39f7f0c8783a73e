/**
 * Sealed frames: every message after the proofs, in both directions, is encrypted and
 * authenticated with AES-256-GCM under its direction's key (keys.ts). Pure: no sockets.
 *
 * - The nonce of record n is n itself (u64, big-endian, in 12 bytes): each direction has its own
 *   key, so a nonce never repeats under a key, and a record that is replayed, reordered or
 *   dropped fails to open, because the receiver expects exactly the next number.
 * - The frame header is the additional data: its length and type are authenticated too.
 * - The message type is the first byte of the plaintext, so an observer sees only that some
 *   sealed frame of some size went by.
 */
import type { DecipherGCM, KeyObject } from 'node:crypto';
import { ErrorCode, LockSocketError } from './errors.js';
import { FRAME_HEADER_BYTES, FrameType, frameHeader, type Frame, type SealedTypeValue } from './frame.js';

const crypto = (): typeof import('node:crypto') => process.getBuiltinModule('node:crypto');

const CIPHER = 'aes-256-gcm';
export const TAG_BYTES = 16;
/** What sealing adds to a message's payload: its type byte and the tag. */
export const SEAL_OVERHEAD = 1 + TAG_BYTES;
const IV_BYTES = 12;

function iv(sequence: bigint): Buffer {
  const bytes = Buffer.alloc(IV_BYTES);
  bytes.writeBigUInt64BE(sequence, IV_BYTES - 8);
  return bytes;
}

/** Seals one direction's messages, numbering them from 0. */
export class Sealer {
  readonly #key: KeyObject | Buffer;
  #sequence = 0n;

  constructor(key: KeyObject | Buffer) {
    this.#key = key;
  }

  /** The whole SEALED frame carrying `payload` as a message of `type`. */
  seal(type: SealedTypeValue, payload: Uint8Array): Buffer {
    const header = frameHeader(FrameType.SEALED, SEAL_OVERHEAD + payload.length);
    const cipher = crypto().createCipheriv(CIPHER, this.#key, iv(this.#sequence++), { authTagLength: TAG_BYTES });
    cipher.setAAD(header);
    const head = cipher.update(Uint8Array.of(type));
    const body = cipher.update(payload);
    const rest = cipher.final();
    return Buffer.concat([header, head, body, rest, cipher.getAuthTag()], FRAME_HEADER_BYTES + SEAL_OVERHEAD + payload.length);
  }
}

// Only open() makes an Opened: a message decoder that takes one cannot be handed bytes that were
// not authenticated (messages.ts), and the compiler makes the authentication a required step.
const opening = Symbol('opening');

/** A message that has been authenticated and decrypted, with its type. */
export class Opened {
  readonly type: number;
  readonly payload: Buffer;

  constructor(token: symbol, type: number, payload: Buffer) {
    if (token !== opening) throw new TypeError('an Opened message comes only from Opener.open()');
    this.type = type;
    this.payload = payload;
  }
}

/** Opens the other direction's messages, expecting them numbered from 0, in order. */
export class Opener {
  readonly #key: KeyObject | Buffer;
  #sequence = 0n;

  constructor(key: KeyObject | Buffer) {
    this.#key = key;
  }

  /** Authenticates and decrypts the next frame; EAUTH for anything that was not sealed by the peer for this place in the stream. */
  open(frame: Frame): Opened {
    if (frame.type !== FrameType.SEALED || frame.payload.length < SEAL_OVERHEAD) {
      throw new LockSocketError(ErrorCode.EAUTH, `expected a sealed frame, got a frame of type ${frame.type} and ${frame.payload.length} bytes`);
    }
    const tagAt = frame.payload.length - TAG_BYTES;
    let plain: Buffer;
    try {
      const decipher: DecipherGCM = crypto().createDecipheriv(CIPHER, this.#key, iv(this.#sequence), { authTagLength: TAG_BYTES });
      decipher.setAAD(frame.header);
      decipher.setAuthTag(frame.payload.subarray(tagAt));
      const body = decipher.update(frame.payload.subarray(0, tagAt));
      plain = Buffer.concat([body, decipher.final()]);
    } catch (cause) {
      throw new LockSocketError(ErrorCode.EAUTH, 'a sealed frame failed authentication: it was changed, replayed, reordered, or not sealed by the peer', { cause });
    }
    this.#sequence++;
    return new Opened(opening, plain[0] as number, plain.subarray(1));
  }
}
