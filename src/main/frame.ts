/**
 * Framing for the lock socket: bytes in, frames out. Pure — no sockets, no timers, no text
 * decoding (payloads stay bytes until a whole frame is here, so a multi-byte character split
 * across TCP chunks survives). The policy above decides what a frame means.
 *
 * A frame is a 5-byte header — payload length (u32, big-endian) and type (u8) — then the payload.
 */
import { ErrorCode, LockSocketError } from '../lock/errors.js';

export const FRAME_HEADER_BYTES = 5;

/** Frame types. The first frame of each side (HELLO, CHALLENGE) starts with magic + version. */
export const FrameType = {
  /** launcher → holder: magic, version, { op, appId, nonce } */
  HELLO: 1,
  /** holder → launcher: magic, version, { appId, nonce, proof, pid, startedAt, version } */
  CHALLENGE: 2,
  /** launcher → holder: { proof, argv, cwd, data?, env, pid } */
  LAUNCH: 3,
  /** launcher → holder: { proof } — keep me posted until you release the lock */
  WAIT: 4,
  /** holder → launcher: { queued } — the launch is delivered (handed to a handler or queued) */
  ACCEPTED: 5,
  /** holder → launcher: { exitCode, message?, data? } */
  REPLY: 6,
  /** either way: { code, message } — then the sender closes */
  ERROR: 7,
  /** holder → waiting launcher: {} — the lock is being released now */
  RELEASED: 8,
} as const;

export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];

export interface Frame {
  type: number;
  payload: Buffer;
}

/** One frame as bytes. Pure and static, like ws's Sender.frame(). */
export function encodeFrame(type: FrameTypeValue, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.writeUInt8(type, 4);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Finds frame boundaries in a byte stream. Chunks are kept as a list and joined only when a
 * whole frame is present, so a peer dripping one byte at a time costs linear work, not
 * quadratic. After it throws, the decoder is spent: the caller closes the connection.
 */
export class FrameDecoder {
  readonly #maxFrameBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #failed = false;

  constructor(options: { maxFrameBytes: number }) {
    this.#maxFrameBytes = options.maxFrameBytes;
  }

  /** Bytes held that do not yet make a whole frame. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** Adds bytes; returns every frame they complete. Throws EFRAMETOOLARGE from the header alone. */
  push(chunk: Uint8Array): Frame[] {
    if (this.#failed) throw new LockSocketError(ErrorCode.EBADMESSAGE, 'frame decoder used after an error');
    if (chunk.length > 0) {
      this.#chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.#buffered += chunk.length;
    }
    const frames: Frame[] = [];
    while (this.#buffered >= FRAME_HEADER_BYTES) {
      const header = this.#peek(FRAME_HEADER_BYTES);
      const length = header.readUInt32BE(0);
      if (length > this.#maxFrameBytes) {
        this.#failed = true;
        this.#chunks = [];
        this.#buffered = 0;
        throw new LockSocketError(
          ErrorCode.EFRAMETOOLARGE,
          `frame of ${length} bytes announced, the maximum is ${this.#maxFrameBytes}`,
        );
      }
      if (this.#buffered < FRAME_HEADER_BYTES + length) break;
      const bytes = this.#take(FRAME_HEADER_BYTES + length);
      frames.push({ type: bytes[4] as number, payload: bytes.subarray(FRAME_HEADER_BYTES) });
    }
    return frames;
  }

  /** The stream ended: throws ETRUNCATED if part of a frame is still buffered. */
  end(): void {
    if (this.#buffered > 0 && !this.#failed) {
      this.#failed = true;
      throw new LockSocketError(ErrorCode.ETRUNCATED, `connection ended inside a frame (${this.#buffered} bytes pending)`);
    }
  }

  #peek(n: number): Buffer {
    const first = this.#chunks[0] as Buffer;
    if (first.length >= n) return first.subarray(0, n);
    this.#join();
    return (this.#chunks[0] as Buffer).subarray(0, n);
  }

  #take(n: number): Buffer {
    let first = this.#chunks[0] as Buffer;
    if (first.length < n) {
      this.#join();
      first = this.#chunks[0] as Buffer;
    }
    // Copy out, so a small frame never pins a large chunk's memory.
    const bytes = Buffer.from(first.subarray(0, n));
    if (first.length === n) this.#chunks.shift();
    else this.#chunks[0] = first.subarray(n);
    this.#buffered -= n;
    return bytes;
  }

  #join(): void {
    this.#chunks = [Buffer.concat(this.#chunks, this.#buffered)];
  }
}
