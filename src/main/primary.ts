/**
 * The holder's side of the lock socket: every connection a later launch opens runs through
 * here. Policy only — framing is frame.ts, validation messages.ts. The holder never kills
 * anybody and never throws out of a connection: a bad client gets an ERROR frame with a code
 * and is closed, and the holder keeps serving.
 */
import type { Socket } from 'node:net';
import { debuglog } from 'node:util';
import { ErrorCode, LockSocketError, type LockSocketErrorCode } from '../lock/errors.js';
import { LINGER_MS } from './constants.js';
import { FrameDecoder, FrameType, type Frame } from './frame.js';
import {
  decodeHello,
  decodeLaunch,
  decodeWait,
  encodeAccepted,
  encodeChallenge,
  encodeError,
  encodeReleased,
  encodeReply,
  Op,
  validateReply,
  type Hello,
  type Limits,
} from './messages.js';
import { makeProof, nonce, proofMatches } from './proof.js';
import type { Launch, LaunchReply, ReplyFunction } from './types.js';

const debug = debuglog('lock-socket');

export interface HolderOptions {
  appId: string;
  /**
   * The per-user secret, asked for at each HELLO: read from its file every time, so a secret
   * that was deleted and recreated (a cleaner, a user tidying ~/.lock-socket) does not lock
   * every later launch out of a long-running holder.
   */
  secret: () => Buffer;
  limits: Limits;
  maxFrameBytes: number;
  handshakeTimeout: number;
  maxConnections: number;
  maxUnauthenticated: number;
  maxQueue: number;
  keepAlive: boolean;
  version: string;
}

/** Hands a launch to the app. May throw or return a rejecting promise: the launcher gets EHANDLER. */
export type Dispatch = (launch: Launch, reply: ReplyFunction) => unknown;

interface Queued {
  launch: Launch;
  reply: ReplyFunction;
  fail: (error: LockSocketError) => void;
}

export class Holder {
  readonly #o: HolderOptions;
  #dispatch: Dispatch | undefined;
  #onHandlerError: ((error: unknown) => void) | undefined;
  readonly #queue: Queued[] = [];
  readonly #sockets = new Set<Socket>();
  /** Insertion-ordered, so the first entry is the oldest connection still unproven. */
  readonly #unproven = new Set<Socket>();
  readonly #waiters = new Set<Socket>();
  #released = false;
  startedAt = 0;

  constructor(options: HolderOptions, onHandlerError?: (error: unknown) => void) {
    this.#o = options;
    this.#onHandlerError = onHandlerError;
  }

  /** Launches waiting for a dispatcher. */
  get queueLength(): number {
    return this.#queue.length;
  }

  /** Sets (or clears) where launches go; queued launches are handed over at once. */
  setDispatch(dispatch: Dispatch | undefined): void {
    this.#dispatch = dispatch;
    while (this.#dispatch && this.#queue.length > 0) {
      const next = this.#queue.shift() as Queued;
      this.#run(next);
    }
  }

  /** Every connection the lock socket accepts comes here. */
  readonly handleConnection = (socket: Socket): void => {
    socket.on('error', (error) => debug('connection error: %s', error.message));
    if (this.#released) {
      socket.destroy();
      return;
    }
    if (!this.#o.keepAlive) socket.unref();
    if (this.#sockets.size >= this.#o.maxConnections) {
      debug('refusing a connection: %d open', this.#sockets.size);
      farewell(socket, ErrorCode.EBUSY, `the holder already serves ${this.#o.maxConnections} connections`);
      return;
    }
    this.#sockets.add(socket);
    this.#unproven.add(socket);
    if (this.#unproven.size > this.#o.maxUnauthenticated) {
      // Slowloris: idle strangers must not crowd out a real launch, so the oldest one goes.
      const oldest = this.#unproven.values().next().value as Socket;
      debug('closing the oldest unproven connection');
      this.#unproven.delete(oldest);
      farewell(oldest, ErrorCode.ETIMEDOUT, 'closed to make room: too many connections that have not proved themselves');
    }
    this.#serve(socket);
  };

  /**
   * Stops serving: waiters hear RELEASED, queued launches get ECLOSED. The caller then unlocks,
   * which closes whatever is still open.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    for (const waiter of this.#waiters) waiter.end(encodeReleased());
    for (const queued of this.#queue.splice(0)) {
      queued.fail(new LockSocketError(ErrorCode.ECLOSED, 'the holder released the lock before a handler took this launch'));
    }
    for (const socket of this.#unproven) socket.destroy();
  }

  #serve(socket: Socket): void {
    const o = this.#o;
    const decoder = new FrameDecoder({ maxFrameBytes: o.maxFrameBytes });
    const holderNonce = nonce();
    let hello: Hello | undefined;
    let secret: Buffer | undefined;
    let done = false;
    let launchGone = () => {};

    const fail = (error: unknown): void => {
      if (done) return;
      done = true;
      const e = error instanceof LockSocketError ? error : new LockSocketError(ErrorCode.EBADMESSAGE, String(error));
      debug('rejecting a connection: %s %s', e.code, e.message);
      farewell(socket, e.code, e.message);
    };
    const timer = setTimeout(() => fail(new LockSocketError(ErrorCode.ETIMEDOUT, 'handshake not completed in time')), o.handshakeTimeout);
    timer.unref();
    const proven = (): void => {
      clearTimeout(timer);
      this.#unproven.delete(socket);
    };

    const onFrame = (frame: Frame): void => {
      if (hello === undefined) {
        hello = decodeHello(frame);
        secret = o.secret();
        const matches = hello.appId === o.appId;
        if (!matches && hello.op !== Op.STATUS) {
          throw new LockSocketError(ErrorCode.EAPPID, `this port is held by another app, not ${JSON.stringify(hello.appId)}`);
        }
        const proof = matches ? makeProof(secret, 'holder', hello.op, o.appId, hello.nonce, holderNonce) : undefined;
        socket.write(
          encodeChallenge({ appId: o.appId, nonce: holderNonce, proof, pid: process.pid, startedAt: this.startedAt, version: o.version }),
        );
        if (hello.op === Op.STATUS) {
          done = true;
          leaveCloseToPeer(socket);
        }
        return;
      }
      const expected = makeProof(secret as Buffer, 'launcher', hello.op, o.appId, hello.nonce, holderNonce);
      if (hello.op === Op.WAIT) {
        if (!proofMatches(expected, decodeWait(frame))) throw new LockSocketError(ErrorCode.EAUTH, 'wrong proof');
        proven();
        done = true;
        this.#waiters.add(socket);
        debug('a launcher waits for the release');
        return;
      }
      if (frame.type !== FrameType.LAUNCH) throw new LockSocketError(ErrorCode.EBADMESSAGE, `unexpected frame type ${frame.type}`);
      const message = decodeLaunch(frame, o.limits, (proof) => {
        if (!proofMatches(expected, proof)) throw new LockSocketError(ErrorCode.EAUTH, 'wrong proof');
      });
      proven();
      done = true;
      const launch: Launch = { argv: message.argv, cwd: message.cwd, data: message.data, env: message.env, pid: message.pid };
      launchGone = this.#accept(socket, launch);
    };

    socket.on('data', (chunk: Buffer) => {
      if (done) {
        // Nothing may follow a launch or a wait. A waiter that talks is dropped; bytes after a
        // launch are ignored (its reply is still owed).
        if (this.#waiters.delete(socket)) socket.destroy();
        return;
      }
      try {
        for (const frame of decoder.push(chunk)) {
          onFrame(frame);
          if (done) break;
        }
      } catch (error) {
        fail(error);
      }
    });
    socket.on('end', () => {
      try {
        decoder.end();
      } catch (error) {
        debug('%s', (error as Error).message);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      this.#sockets.delete(socket);
      this.#unproven.delete(socket);
      this.#waiters.delete(socket);
      launchGone();
    });
  }

  /** A proven launch: hand it over or queue it, and say so. Returns what to do if the launcher leaves. */
  #accept(socket: Socket, launch: Launch): () => void {
    let answered = false;
    const reply: ReplyFunction = (value: LaunchReply) => {
      if (answered) return;
      const checked = validateReply(value, this.#o.limits.maxArgBytes); // throws into the handler: its bug, its stack
      answered = true;
      if (socket.destroyed) return;
      socket.write(encodeReply(checked));
      socket.uncork();
      leaveCloseToPeer(socket);
    };
    const fail = (error: LockSocketError) => {
      if (answered) return;
      answered = true;
      farewell(socket, error.code, error.message);
    };
    const entry: Queued = { launch, reply, fail };
    if (this.#dispatch) {
      // Corked, so that a handler that replies at once sends ACCEPTED and REPLY in one segment
      // (reply() uncorks); otherwise ACCEPTED goes out on the next tick, alone.
      socket.cork();
      socket.write(encodeAccepted(false));
      this.#run(entry);
      process.nextTick(() => {
        if (!answered) lateReply(socket);
        socket.uncork();
      });
      return () => {
        answered = true;
      };
    }
    if (this.#queue.length >= this.#o.maxQueue) {
      fail(new LockSocketError(ErrorCode.EQUEUEFULL, `${this.#o.maxQueue} launches already wait for a handler`));
      return () => {};
    }
    this.#queue.push(entry);
    lateReply(socket);
    socket.write(encodeAccepted(true));
    debug('launch queued (%d waiting)', this.#queue.length);
    // A queued launch whose launcher has gone is dropped: that launcher has already exited non-zero.
    return () => {
      answered = true;
      const i = this.#queue.indexOf(entry);
      if (i >= 0) this.#queue.splice(i, 1);
    };
  }

  #run(entry: Queued): void {
    const handlerFailed = (error: unknown) => {
      debug('handler failed: %s', error);
      this.#onHandlerError?.(error);
      const message = error instanceof Error ? error.message : String(error);
      entry.fail(new LockSocketError(ErrorCode.EHANDLER, `the holder's handler failed: ${message}`));
    };
    try {
      const result = (this.#dispatch as Dispatch)(entry.launch, entry.reply);
      if (result instanceof Promise) result.catch(handlerFailed);
    } catch (error) {
      handlerFailed(error);
    }
  }
}

/**
 * Nagle off for a connection whose REPLY (or ERROR) will follow an ACCEPTED sent on its own:
 * with Nagle, that second frame would wait for the ACK of the first, which the launcher (having
 * nothing to send) delays by up to 40 ms. Not done for every connection: the common case, a
 * handler that replies at once, sends ACCEPTED and REPLY in one write, and every other frame of
 * the holder answers one of the launcher's, which carries the ACK — the setsockopt() call was 2 %
 * of a forwarded launch (docs/benchmarks.md, P3).
 */
function lateReply(socket: Socket): void {
  if (!socket.destroyed) socket.setNoDelay(true);
}

/**
 * After the holder's last frame, the launcher closes first (it does as soon as it has read it):
 * the side that closes first keeps the connection in TIME_WAIT for a minute, and on the
 * launcher's side that is its own ephemeral port instead of the lock's port, which otherwise
 * gathered one TIME_WAIT socket per launch (thousands in a benchmark loop; each made connect()
 * and close() on that port measurably slower: docs/benchmarks.md, P3). The holder's socket ends
 * when the launcher's FIN arrives (allowHalfOpen is off), or at LINGER_MS for a launcher that
 * never closes.
 */
function leaveCloseToPeer(socket: Socket): void {
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/**
 * Sends an ERROR frame and half-closes; never lets a stuck peer keep the socket (LINGER_MS at most).
 * It does not destroy the socket as soon as the frame is written: closing a socket with unread
 * input makes the kernel send RST and drop the frame still in its send queue, so a peer that was
 * still sending (an oversized frame, 100 000 arguments) would see a reset instead of the code.
 * Instead it keeps reading and discards what arrives until the peer closes.
 */
function farewell(socket: Socket, code: LockSocketErrorCode, message: string): void {
  if (socket.destroyed) return;
  socket.removeAllListeners('data');
  socket.resume();
  socket.end(encodeError(code, message));
  leaveCloseToPeer(socket);
}
