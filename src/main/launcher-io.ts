/**
 * A launch's standard streams, on the launcher's side: the holder's OUTPUT goes to this
 * process's stdout and stderr, in the order it was written, and (when asked) this process's
 * stdin goes to the holder as INPUT. The credit rules are launch-io.ts's: the launcher grants
 * output room only for what its streams have taken (a slow terminal slows the holder, not its
 * memory), and sends input only within what the holder has granted.
 */
import type { Readable, Writable } from 'node:stream';
import { SealedType, type SealedTypeValue } from './frame.js';
import { STREAM_CHUNK, STREAM_WINDOW } from './launch-io.js';
import { windowPayload } from './messages.js';

export interface LauncherIOOptions {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable | undefined;
  /** Seals and writes one message. */
  send: (type: SealedTypeValue, payload: Uint8Array) => void;
}

/** The output window a launcher grants in its LAUNCH. */
export const OUTPUT_WINDOW = STREAM_WINDOW;

export class LauncherIO {
  readonly #o: LauncherIOOptions;
  /** Output taken by this process's streams since the last WINDOW. */
  #taken = 0;
  #writing = 0;
  #onIdle: (() => void) | undefined;
  #inputCredit = 0;
  #inputEnded = false;
  #endSent = false;
  #closed = false;
  readonly #ignore = (): void => {};
  readonly #pump = (): void => this.#sendInput();
  readonly #end = (): void => {
    this.#inputEnded = true;
    this.#sendInput();
  };

  constructor(options: LauncherIOOptions) {
    this.#o = options;
    // A closed terminal or pipe (`app | head`) must not end the launch: what it cannot take is
    // dropped, and counted as taken, so the holder is never left waiting for room.
    options.stdout.on('error', this.#ignore);
    options.stderr.on('error', this.#ignore);
    const stdin = options.stdin;
    if (stdin) {
      stdin.on('readable', this.#pump);
      stdin.on('end', this.#end);
      stdin.on('error', this.#end);
    }
  }

  /** Bytes the holder wrote to `fd`. */
  output(fd: 1 | 2, bytes: Buffer): void {
    const stream = fd === 1 ? this.#o.stdout : this.#o.stderr;
    this.#writing++;
    const done = (): void => {
      this.#writing--;
      this.#taken += bytes.length;
      if (this.#taken >= OUTPUT_WINDOW / 2 && !this.#closed) {
        this.#o.send(SealedType.WINDOW, windowPayload(this.#taken));
        this.#taken = 0;
      }
      if (this.#writing === 0) this.#onIdle?.();
    };
    try {
      stream.write(bytes, done);
    } catch {
      done();
    }
  }

  /** The holder made room for `bytes` more of stdin. */
  window(bytes: number): void {
    this.#inputCredit += bytes;
    this.#sendInput();
  }

  /** Resolves once every byte of output has been handed to this process's streams. */
  flushed(): Promise<void> {
    if (this.#writing === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#onIdle = resolve));
  }

  /** The launch is over: stop reading stdin (so the process can exit) and leave the streams as they were. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.stdout.off('error', this.#ignore);
    this.#o.stderr.off('error', this.#ignore);
    const stdin = this.#o.stdin;
    if (stdin) {
      stdin.off('readable', this.#pump);
      stdin.off('end', this.#end);
      stdin.off('error', this.#end);
      stdin.pause();
    }
  }

  #sendInput(): void {
    const stdin = this.#o.stdin;
    if (this.#closed || this.#endSent || !stdin) return;
    while (this.#inputCredit > 0) {
      const chunk = stdin.read() as Buffer | string | null;
      if (chunk === null) break;
      let bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (bytes.length > this.#inputCredit) {
        stdin.unshift(bytes.subarray(this.#inputCredit));
        bytes = bytes.subarray(0, this.#inputCredit);
      }
      this.#inputCredit -= bytes.length;
      for (let at = 0; at < bytes.length; at += STREAM_CHUNK) this.#o.send(SealedType.INPUT, bytes.subarray(at, at + STREAM_CHUNK));
    }
    // The end travels once everything before it has: an empty INPUT.
    if (this.#inputEnded && !this.#endSent && stdin.readableLength === 0) {
      this.#endSent = true;
      this.#o.send(SealedType.INPUT, Buffer.alloc(0));
    }
  }
}
