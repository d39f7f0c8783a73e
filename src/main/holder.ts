/**
 * One connection to the holder, as an explicit state machine (the style of ws's receiver):
 *
 *   HELLO ──► FINISHED ──► LAUNCH ──► ANSWERING ──► REPLYING ──► DONE
 *     │           └──────► WAITING ───────────────────────────► DONE
 *     └─ status ──────────────────────────────────────────────► DONE
 *
 * - HELLO: nothing is known about the peer; frames are capped at MAX_HANDSHAKE_FRAME_BYTES. A
 *   HELLO gets the CHALLENGE, which carries the holder's proof: the holder proves itself first.
 * - FINISHED: the launcher owes its proof, still under the small cap. Once it is verified the
 *   peer is proven, and only then may it send a frame of up to maxFrameBytes.
 * - LAUNCH: the sealed launch, opened (authenticated) before a byte of it is parsed.
 * - ANSWERING: the launch is with the app (or queued). Its output goes to the launcher, its
 *   stdin comes from it (launch-io.ts: WINDOW and INPUT messages are read in this stage).
 * - REPLYING: `reply()` was called; the REPLY follows the output still on its way.
 * - WAITING: a launcher waits for the release; the holder sends a sealed RELEASED.
 * - DONE: the last frame is out; the launcher closes first (see `linger`).
 *
 * Before its proof is sent the holder refuses in clear (protocol 1's ERROR shape, so an older
 * launcher can read EVERSION); after, everything it sends is sealed. Policy only: framing is
 * frame.ts, messages messages.ts, keys keys.ts, sealing seal.ts; admission, the queue and the
 * release belong to the Holder (primary.ts), which this file reaches through `Host`.
 */
import type { Socket } from 'node:net';
import type { KeyObject } from 'node:crypto';
import { ErrorCode, LockSocketError } from './errors.js';
import { LINGER_MS, MAX_HANDSHAKE_FRAME_BYTES } from './constants.js';
import { debug } from './debug.js';
import { FrameDecoder, SealedType, type Frame, type SealedTypeValue } from './frame.js';
import { deriveKeys, nonce, proofMatches, transcriptHash, type Keys } from './keys.js';
import {
  acceptedPayload,
  challengeBody,
  decodeFinished,
  decodeHello,
  decodeInput,
  decodeLaunch,
  decodeWindow,
  encodeChallenge,
  encodeClearError,
  errorPayload,
  Op,
  RELEASED_PAYLOAD,
  replyPayload,
  type Hello,
  type Limits,
} from './messages.js';
import { LaunchIO } from './launch-io.js';
import { Opener, SEAL_OVERHEAD, Sealer } from './seal.js';
import type { Launch } from './types.js';

export const Stage = {
  HELLO: 'hello',
  FINISHED: 'finished',
  LAUNCH: 'launch',
  ANSWERING: 'answering',
  REPLYING: 'replying',
  WAITING: 'waiting',
  DONE: 'done',
} as const;
export type StageValue = (typeof Stage)[keyof typeof Stage];

/** What a connection needs to know about its holder. */
export interface ConnectionSettings {
  appId: string;
  /** The address:port the holder listens on, as it goes into the transcript. */
  endpoint: string;
  /** The per-user secret, asked for at each HELLO (it may have been replaced); throws ESECRET. */
  secret: () => KeyObject;
  limits: Limits;
  maxFrameBytes: number;
  handshakeTimeout: number;
  version: string;
  pid: number;
  /** When the lock was taken (ms since the epoch). */
  startedAt: number;
}

/** What the Holder does for its connections. */
export interface Host {
  readonly settings: ConnectionSettings;
  /** The peer proved itself: it no longer counts as unproven. */
  proven(connection: Connection): void;
  /** A proven launch: hand it to the app or queue it. */
  launch(connection: Connection, launch: Launch): void;
  /** A proven waiter: tell it when the lock is released. */
  wait(connection: Connection): void;
  /** The connection is no longer served (its last frame is out, or it is gone). */
  finished(connection: Connection): void;
}

export class Connection {
  readonly socket: Socket;
  readonly #host: Host;
  readonly #decoder = new FrameDecoder({ maxFrameBytes: MAX_HANDSHAKE_FRAME_BYTES });
  readonly #timer: NodeJS.Timeout;
  #stage: StageValue = Stage.HELLO;
  #hello: Hello | undefined;
  #keys: Keys | undefined;
  #sealer: Sealer | undefined;
  #opener: Opener | undefined;
  #io: LaunchIO | undefined;
  /** The largest message payload the launcher accepts (set by its LAUNCH). */
  #maxPayloadBytes = 0;

  constructor(socket: Socket, host: Host) {
    this.socket = socket;
    this.#host = host;
    // Unproven peers are dropped at the deadline, not told: a stranger gets nothing for waiting.
    this.#timer = setTimeout(() => {
      debug('dropping a connection: handshake not completed in time (%s)', this.#stage);
      this.destroy();
    }, host.settings.handshakeTimeout);
    this.#timer.unref();
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => {
      try {
        this.#decoder.end();
      } catch (error) {
        debug('%s', (error as Error).message);
      }
    });
    socket.on('close', () => {
      clearTimeout(this.#timer);
      this.#stage = Stage.DONE;
      this.#io?.close();
      this.#host.finished(this);
    });
  }

  get stage(): StageValue {
    return this.#stage;
  }

  /** Bytes read but not yet handed out as frames (what a slow peer makes the holder keep). */
  get bufferedBytes(): number {
    return this.#decoder.bufferedBytes;
  }

  /** Closes at once, without a word: for evicted and timed-out peers, and at release. */
  destroy(): void {
    this.#stage = Stage.DONE;
    this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#stage === Stage.WAITING) {
      // Nothing may follow a wait: a waiter that talks is dropped.
      this.destroy();
      return;
    }
    // DONE: discarded until the peer closes.
    if (this.#stage === Stage.DONE) return;
    this.#decoder.write(chunk);
    try {
      for (let frame = this.#decoder.read(); frame; frame = this.#decoder.read()) {
        this.#onFrame(frame);
        const stage = this.#stage as StageValue; // changed by #onFrame
        if (stage === Stage.WAITING || stage === Stage.DONE) break;
      }
    } catch (error) {
      const e = error instanceof LockSocketError ? error : new LockSocketError(ErrorCode.EBADMESSAGE, String(error));
      debug('rejecting a connection in stage %s: %s %s', this.#stage, e.code, e.message);
      this.fail(e);
    }
  }

  #onFrame(frame: Frame): void {
    switch (this.#stage) {
      case Stage.HELLO:
        return this.#onHello(frame);
      case Stage.FINISHED:
        return this.#onFinished(frame);
      case Stage.LAUNCH:
        return this.#onLaunch(frame);
      case Stage.ANSWERING:
      case Stage.REPLYING:
        return this.#onStream(frame);
      default:
        throw new LockSocketError(ErrorCode.EBADMESSAGE, `unexpected frame in stage ${this.#stage}`);
    }
  }

  #onHello(frame: Frame): void {
    const s = this.#host.settings;
    const hello = decodeHello(frame);
    this.#hello = hello;
    const ours = hello.appId === s.appId;
    if (!ours && hello.op !== Op.STATUS) {
      throw new LockSocketError(ErrorCode.EAPPID, `this port is held by another app, not ${JSON.stringify(hello.appId)}`);
    }
    const body = challengeBody({ appId: s.appId, nonce: nonce(), pid: s.pid, startedAt: s.startedAt, version: s.version });
    if (ours) this.#keys = deriveKeys(s.secret(), transcriptHash(s.endpoint, frame.payload, body));
    this.socket.write(encodeChallenge(body, this.#keys?.holderProof));
    if (hello.op === Op.STATUS) {
      this.#done();
      return;
    }
    this.#sealer = new Sealer((this.#keys as Keys).holderKey);
    this.#stage = Stage.FINISHED;
  }

  #onFinished(frame: Frame): void {
    const keys = this.#keys as Keys;
    if (!proofMatches(keys.launcherProof, decodeFinished(frame))) {
      throw new LockSocketError(ErrorCode.EAUTH, "the launcher's proof is wrong: it does not know this user's secret, or the handshake was changed in transit");
    }
    this.#host.proven(this);
    this.#opener = new Opener(keys.launcherKey);
    if ((this.#hello as Hello).op === Op.WAIT) {
      clearTimeout(this.#timer);
      this.#stage = Stage.WAITING;
      this.#host.wait(this);
      debug('a launcher waits for the release');
      return;
    }
    this.#stage = Stage.LAUNCH;
    this.#decoder.maxFrameBytes = this.#host.settings.maxFrameBytes;
  }

  #onLaunch(frame: Frame): void {
    const s = this.#host.settings;
    const message = decodeLaunch((this.#opener as Opener).open(frame), s.limits);
    clearTimeout(this.#timer);
    this.#maxPayloadBytes = Math.min(message.maxFrameBytes, s.maxFrameBytes) - SEAL_OVERHEAD;
    this.#stage = Stage.ANSWERING;
    // ACCEPTED and a reply that follows at once must not wait for each other's ACK (Nagle plus
    // the launcher's delayed ACK would hold the REPLY back by up to 40 ms).
    this.socket.setNoDelay(true);
    const io = new LaunchIO({
      outputWindow: message.output,
      input: message.input,
      maxPayloadBytes: this.#maxPayloadBytes,
      maxBufferedOutput: s.maxFrameBytes,
      send: (type, payload) => this.#send(type, payload),
      fail: (error) => this.fail(error),
    });
    this.#io = io;
    const launch = { argv: message.argv, cwd: message.cwd, data: message.data, env: message.env, pid: message.pid } as Launch;
    Object.defineProperties(launch, { stdout: { value: io.stdout }, stderr: { value: io.stderr }, stdin: { value: io.stdin } });
    this.#host.launch(this, launch);
  }

  /** WINDOW and INPUT while the launch runs. */
  #onStream(frame: Frame): void {
    const message = (this.#opener as Opener).open(frame);
    const io = this.#io as LaunchIO;
    switch (message.type) {
      case SealedType.WINDOW:
        return io.window(decodeWindow(message));
      case SealedType.INPUT:
        return io.input(decodeInput(message));
      default:
        throw new LockSocketError(ErrorCode.EBADMESSAGE, `unexpected message type ${message.type} while the launch runs`);
    }
  }

  #send(type: SealedTypeValue, payload: Uint8Array): void {
    if (this.#stage === Stage.DONE) return;
    this.socket.write((this.#sealer as Sealer).seal(type, payload));
  }

  /** The launch reached the app (`queued`: it waits for a handler). */
  accepted(queued: boolean): void {
    if (this.#stage !== Stage.ANSWERING) return;
    this.#send(SealedType.ACCEPTED, acceptedPayload(queued));
    this.#io?.start();
  }

  /**
   * The app's answer. Checked and encoded before anything is sent: a reply that cannot be sent
   * (a cycle, a BigInt, too large for the launcher) gives the launcher EHANDLER at once, and
   * throws here, so that the handler's author sees the bug. False if the launch was answered
   * already or its launcher has gone.
   */
  reply(value: unknown): boolean {
    if (this.#stage !== Stage.ANSWERING) return false;
    let payload: Buffer;
    try {
      payload = replyPayload(value, this.#host.settings.limits.maxArgBytes, this.#maxPayloadBytes);
    } catch (error) {
      this.fail(new LockSocketError(ErrorCode.EHANDLER, `the holder's reply could not be sent: ${(error as Error).message}`));
      throw error;
    }
    this.#stage = Stage.REPLYING;
    // The output written before the reply reaches the launcher first.
    (this.#io as LaunchIO).whenFlushed(() => {
      if (this.#stage !== Stage.REPLYING) return;
      this.#send(SealedType.REPLY, payload);
      this.#done();
    });
    return true;
  }

  /** Ends a waiter: the lock is being released. */
  released(): void {
    if (this.#stage !== Stage.WAITING) return;
    this.socket.write((this.#sealer as Sealer).seal(SealedType.RELEASED, RELEASED_PAYLOAD));
    this.#done();
  }

  /**
   * Refuses with a code and ends the conversation: in clear before the holder has sent its
   * proof, sealed after. The holder keeps serving everyone else.
   */
  fail(error: LockSocketError): void {
    if (this.#stage === Stage.DONE || this.socket.destroyed) return;
    this.#io?.close();
    const unproven = this.#stage === Stage.HELLO || this.#stage === Stage.FINISHED;
    const sealer = this.#stage === Stage.HELLO ? undefined : this.#sealer;
    this.socket.write(sealer ? sealer.seal(SealedType.ERROR, errorPayload(error.code, error.message)) : encodeClearError(error.code, error.message));
    this.#done();
    // A stranger's input is no longer read at all: whatever it goes on sending (a 4 GiB frame)
    // waits in the kernel until LINGER_MS, instead of passing through the holder's memory.
    if (unproven) this.socket.pause();
  }

  /**
   * The holder's last frame is out: the connection stops counting, and the launcher closes first
   * (it does as soon as it has read the frame). The side that closes first keeps TIME_WAIT for a
   * minute; on the launcher's side that is its own ephemeral port, not the lock's port, which
   * otherwise gathered one TIME_WAIT socket per launch (docs/benchmarks.md, P3). The holder's socket
   * ends when the launcher's FIN arrives (allowHalfOpen is off), or at LINGER_MS for a launcher
   * that never closes. Input is still read and discarded meanwhile: a socket closed with unread
   * input sends RST, and the kernel drops the frame still in its send queue.
   */
  #done(): void {
    clearTimeout(this.#timer);
    this.#stage = Stage.DONE;
    this.#io?.close();
    this.#host.finished(this);
    const linger = setTimeout(() => this.socket.destroy(), LINGER_MS);
    linger.unref();
    this.socket.once('close', () => clearTimeout(linger));
  }
}

/** A clear ERROR for a connection the holder will not serve at all (too many open already). */
export function refuse(socket: Socket, error: LockSocketError): void {
  socket.on('error', () => {});
  socket.end(encodeClearError(error.code, error.message));
  const linger = setTimeout(() => socket.destroy(), LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
}

