/**
 * Framing for the lock socket: bytes in, frames out. Pure — no sockets, no timers, no text
 * decoding (payloads stay bytes until a whole frame is here, so a multi-byte character split
 * across TCP chunks survives). The policy above decides what a frame means, and how large a frame
 * it accepts at each point of a conversation.
 *
 * A frame is a 5-byte header — payload length (u32, big-endian) and type (u8) — then the payload.
 * The header is the same in every protocol version, so two versions can still tell each other so.
 */
import { ErrorCode, LockSocketError } from './errors.js';

export const FRAME_HEADER_BYTES = 5;

/** Frame types on the wire. docs/protocol.md has the message flow. */
export const FrameType = {
  /** launcher → holder, in clear: magic, version, { op, appId, nonce } */
  HELLO: 1,
  /** holder → launcher, in clear: magic, version, proof?, { appId, nonce, pid, startedAt, version } */
  CHALLENGE: 2,
  /** holder → launcher, in clear, before any proof: { code, message }, then the holder closes */
  ERROR: 7,
  /** launcher → holder, in clear: the launcher's proof (32 bytes) */
  FINISHED: 9,
  /** either way, after the proofs: an AEAD-sealed message (see seal.ts) */
  SEALED: 16,
} as const;

/** Message types inside a SEALED frame (the first byte of its plaintext). */
export const SealedType = {
  /** launcher → holder: { argv, cwd, data?, env, pid, maxFrameBytes, output, input } */
  LAUNCH: 3,
  /** holder → launcher: { queued } — the launch is delivered (handed to a handler or queued) */
  ACCEPTED: 5,
  /** holder → launcher: { exitCode, message?, data? } */
  REPLY: 6,
  /** holder → launcher: { code, message }, then the holder closes */
  ERROR: 7,
  /** holder → waiting launcher: {} — the lock is being released now */
  RELEASED: 8,
  /** holder → launcher: one byte, 1 (stdout) or 2 (stderr), then the bytes written (launch-io.ts) */
  OUTPUT: 10,
  /** either way: u32 — room for that many more bytes of OUTPUT (to the holder) or INPUT (to the launcher) */
  WINDOW: 11,
  /** launcher → holder: bytes of the launcher's stdin; none: its end */
  INPUT: 12,
} as const;

export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];
export type SealedTypeValue = (typeof SealedType)[keyof typeof SealedType];

export interface Frame {
  type: number;
  /** The frame's 5-byte header, as received (a sealed frame authenticates it). */
  header: Buffer;
  payload: Buffer;
}

/** A frame header for `length` payload bytes. */
export function frameHeader(type: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(length, 0);
  header.writeUInt8(type, 4);
  return header;
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
 * Finds frame boundaries in a byte stream. `write` buffers bytes; `read` hands out one frame at
 * a time, so the caller can change `maxFrameBytes` between two frames (a peer earns large frames
 * by proving itself) and keeps every frame that came before a bad header. Chunks are kept as a
 * list and joined only when a whole frame is present, so a peer dripping one byte at a time
 * costs linear work, not quadratic. After `read` throws, the decoder is spent: the caller closes
 * the connection.
 */
export class FrameDecoder {
  /** Largest payload accepted, checked from the header before the body is buffered. */
  maxFrameBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #failed = false;

  constructor(options: { maxFrameBytes: number }) {
    this.maxFrameBytes = options.maxFrameBytes;
  }

  /** Bytes held that have not been handed out as frames. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** Adds bytes. Nothing is decoded until `read`. */
  write(chunk: Uint8Array): void {
    if (this.#failed || chunk.length === 0) return;
    this.#chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    this.#buffered += chunk.length;
  }

  /**
   * The next whole frame, or undefined until more bytes arrive. Throws EFRAMETOOLARGE from the
   * header alone (and drops what is buffered), or EBADMESSAGE once spent.
   */
  read(): Frame | undefined {
    if (this.#failed) throw new LockSocketError(ErrorCode.EBADMESSAGE, 'frame decoder used after an error');
    if (this.#buffered < FRAME_HEADER_BYTES) return undefined;
    const length = this.#peek(FRAME_HEADER_BYTES).readUInt32BE(0);
    if (length > this.maxFrameBytes) {
      this.#fail();
      throw new LockSocketError(ErrorCode.EFRAMETOOLARGE, `frame of ${length} bytes announced, the maximum here is ${this.maxFrameBytes}`);
    }
    if (this.#buffered < FRAME_HEADER_BYTES + length) return undefined;
    const bytes = this.#take(FRAME_HEADER_BYTES + length);
    return { type: bytes[4] as number, header: bytes.subarray(0, FRAME_HEADER_BYTES), payload: bytes.subarray(FRAME_HEADER_BYTES) };
  }

  /** The stream ended: throws ETRUNCATED if part of a frame is still buffered. */
  end(): void {
    if (this.#buffered > 0 && !this.#failed) {
      const pending = this.#buffered;
      this.#fail();
      throw new LockSocketError(ErrorCode.ETRUNCATED, `connection ended inside a frame (${pending} bytes pending)`);
    }
  }

  #fail(): void {
    this.#failed = true;
    this.#chunks = [];
    this.#buffered = 0;
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
