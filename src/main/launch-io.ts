/**
 * A launch's standard streams, on the holder's side: what the app writes to `launch.stdout` and
 * `launch.stderr` goes to the launcher's terminal, and `launch.stdin` reads the launcher's stdin
 * (when it sends it), all inside the sealed channel.
 *
 * Flow control is by credit, both ways, as in HTTP/2: the holder sends OUTPUT only while the
 * launcher has granted room for it (its LAUNCH grants the first window; each WINDOW it sends
 * grants what its terminal has taken since), and the launcher sends INPUT only within what the
 * holder has granted. So a slow terminal slows the app's writes (`write()` returns false, as on
 * any stream) instead of growing the holder's memory; an app that ignores that signal and
 * buffers more than `maxBufferedOutput` fails the launch with ETOOLARGE rather than the holder.
 */
import { Readable, Writable } from 'node:stream';
import { ErrorCode, LockSocketError } from './errors.js';
import { SealedType, type SealedTypeValue } from './frame.js';
import { windowPayload } from './messages.js';

/** How much output waits for the launcher's window before `write()` returns false. */
export const OUTPUT_HIGH_WATER = 64 * 1024;
/** The window each side grants: the most one side sends before the other has taken it. */
export const STREAM_WINDOW = 64 * 1024;
/** The largest OUTPUT or INPUT message (a write larger than this goes in pieces). */
export const STREAM_CHUNK = 16 * 1024;

export const Fd = { STDOUT: 1, STDERR: 2 } as const;

interface Pending {
  fd: number;
  bytes: Buffer;
  /** The Writable's callback, held while too much waits, so that write() reports backpressure. */
  done: ((error?: Error | null) => void) | undefined;
}

export interface LaunchIOOptions {
  /** The output window the launcher's LAUNCH granted. */
  outputWindow: number;
  /** Whether the launcher sends stdin. */
  input: boolean;
  /** The largest message payload the launcher accepts. */
  maxPayloadBytes: number;
  /** The most output the app may have waiting at once, whatever the launcher's pace. */
  maxBufferedOutput: number;
  /** Seals and writes one message. */
  send: (type: SealedTypeValue, payload: Uint8Array) => void;
  /** Ends the launch with an error (sent to the launcher, sealed). */
  fail: (error: LockSocketError) => void;
}

export class LaunchIO {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdin: Readable;
  readonly #o: LaunchIOOptions;
  readonly #pending: Pending[] = [];
  #queued = 0;
  #credit: number;
  /** Input credit granted to the launcher and not yet used. */
  #inputOutstanding = 0;
  #closed = false;
  #started = false;
  #inputEnded = false;
  #onFlushed: (() => void) | undefined;

  constructor(options: LaunchIOOptions) {
    this.#o = options;
    this.#credit = options.outputWindow;
    this.stdout = this.#output(Fd.STDOUT);
    this.stderr = this.#output(Fd.STDERR);
    // Readable calls read() inside the app's read(n), before it takes its n bytes, and then waits
    // for a push: the room is counted just after, once those bytes have gone.
    this.stdin = new Readable({ highWaterMark: STREAM_WINDOW, read: () => queueMicrotask(() => this.#grantInput()) });
    if (!options.input) {
      this.#inputEnded = true;
      this.stdin.push(null);
    }
  }

  /** The launch was accepted: the launcher may now send stdin, within a first window. */
  start(): void {
    this.#started = true;
    this.#grantInput();
  }

  /** The launcher's terminal took `bytes` more: send what fits. */
  window(bytes: number): void {
    this.#credit += bytes;
    this.#pump();
  }

  /** Stdin from the launcher; an empty message is its end. */
  input(bytes: Buffer): void {
    if (this.#closed) return;
    if (this.#inputEnded || bytes.length > this.#inputOutstanding) {
      this.#o.fail(new LockSocketError(ErrorCode.EBADMESSAGE, `the launcher sent ${bytes.length} bytes of input, beyond the ${this.#inputOutstanding} it was granted`));
      return;
    }
    if (bytes.length === 0) {
      this.#inputEnded = true;
      this.stdin.push(null);
      return;
    }
    this.#inputOutstanding -= bytes.length;
    this.stdin.push(bytes);
  }

  /** Calls `then` once every byte written so far has been sent (at once when none waits). */
  whenFlushed(then: () => void): void {
    this.#onFlushed = then;
    this.#checkFlushed();
  }

  /** The launch is over (answered, failed, or its launcher left): nothing more is sent or read. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const pending of this.#pending.splice(0)) pending.done?.();
    this.#queued = 0;
    // Destroyed without an error: a write after the end is refused through its callback, and
    // never as an 'error' event that an app without a listener would crash on.
    this.stdout.destroy();
    this.stderr.destroy();
    if (!this.#inputEnded) {
      this.#inputEnded = true;
      this.stdin.push(null);
    }
  }

  #output(fd: number): Writable {
    return new OutputStream((bytes) => this.#admit(bytes), (chunk, done) => this.#enqueue(fd, chunk, done));
  }

  /**
   * Called by each write() before the stream buffers it: an app that goes on writing while
   * write() says false would otherwise grow the stream's own buffer without bound.
   */
  #admit(bytes: number): boolean {
    if (this.#closed) return false;
    const buffered = this.#queued + this.stdout.writableLength + this.stderr.writableLength + bytes;
    if (buffered <= this.#o.maxBufferedOutput) return true;
    this.#o.fail(
      new LockSocketError(
        ErrorCode.ETOOLARGE,
        `the holder's output waiting for the launcher's terminal passed ${this.#o.maxBufferedOutput} bytes (its writes ignored write() returning false)`,
      ),
    );
    return false;
  }

  #enqueue(fd: number, bytes: Buffer, done: (error?: Error | null) => void): void {
    if (this.#closed) return done();
    this.#queued += bytes.length;
    // Below the high-water mark the write is done at once; above it, only once it has been sent,
    // so the stream's write() returns false and 'drain' comes when the launcher catches up.
    const holdBack = this.#queued > OUTPUT_HIGH_WATER;
    this.#pending.push({ fd, bytes, done: holdBack ? done : undefined });
    if (!holdBack) done();
    this.#pump();
  }

  #pump(): void {
    const most = Math.min(STREAM_CHUNK, this.#o.maxPayloadBytes - 1);
    while (!this.#closed && this.#credit > 0 && this.#pending.length > 0) {
      const head = this.#pending[0] as Pending;
      const n = Math.min(head.bytes.length, this.#credit, most);
      const payload = Buffer.allocUnsafe(1 + n);
      payload[0] = head.fd;
      head.bytes.copy(payload, 1, 0, n);
      this.#o.send(SealedType.OUTPUT, payload);
      this.#credit -= n;
      this.#queued -= n;
      if (n < head.bytes.length) {
        head.bytes = head.bytes.subarray(n);
        continue;
      }
      this.#pending.shift();
      head.done?.();
    }
    this.#checkFlushed();
  }

  /**
   * Everything written has been sent: nothing waits for the window, and nothing waits inside
   * either stream (a chunk held there moves on as soon as the one before it is sent).
   */
  #checkFlushed(): void {
    if (!this.#onFlushed || this.#pending.length > 0 || this.stdout.writableLength > 0 || this.stderr.writableLength > 0) return;
    const then = this.#onFlushed;
    this.#onFlushed = undefined;
    then();
  }

  /** Grants the launcher room for more input, once enough has been taken to be worth a message. */
  #grantInput(): void {
    if (!this.#o.input || !this.#started || this.#closed || this.#inputEnded) return;
    const room = STREAM_WINDOW - this.stdin.readableLength - this.#inputOutstanding;
    // Small grants wait while input is still on its way (its arrival calls for more reading); with
    // none on its way, any room is granted: Readable asks once and then waits for a push, so a
    // request that granted nothing would wait for ever.
    if (room <= 0 || (this.#inputOutstanding > 0 && room < STREAM_WINDOW / 2)) return;
    this.#inputOutstanding += room;
    this.#o.send(SealedType.WINDOW, windowPayload(room));
  }
}

/** A Writable whose every write() is admitted first (see LaunchIO#admit). */
class OutputStream extends Writable {
  readonly #admit: (bytes: number) => boolean;

  constructor(admit: (bytes: number) => boolean, write: (chunk: Buffer, done: (error?: Error | null) => void) => void) {
    super({ highWaterMark: OUTPUT_HIGH_WATER, write: (chunk: Buffer, _encoding, done) => write(chunk, done) });
    this.#admit = admit;
  }

  override write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    const size = typeof chunk === 'string' ? Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : ((chunk as Uint8Array | undefined)?.length ?? 0);
    // Refused (the launch failed, or is over): the stream is destroyed, and Writable hands the
    // write's callback ERR_STREAM_DESTROYED without an 'error' event.
    if (!this.#admit(size)) this.destroy();
    return super.write(chunk, encoding as BufferEncoding, callback as (error: Error | null | undefined) => void);
  }
}
