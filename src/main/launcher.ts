/**
 * The launcher's side of the lock socket: connect to the holder, make it prove itself, then
 * (and only then) send the launch, and wait for "accepted" and for the reply. Also the two
 * other conversations: waiting for the holder to release, and asking who holds the lock.
 */
import { connect, type Socket } from 'node:net';
import { debuglog } from 'node:util';
import { ErrorCode, LockSocketError } from '../lock/errors.js';
import { FrameDecoder, FrameType, type Frame } from './frame.js';
import {
  decodeAccepted,
  decodeChallenge,
  decodeError,
  decodeReply,
  encodeHello,
  encodeLaunch,
  encodeWait,
  Op,
  type Challenge,
  type OpValue,
} from './messages.js';
import { makeProof, nonce, proofMatches } from './proof.js';
import type { Delivery, HolderStatus, JsonValue, LaunchReply } from './types.js';

const debug = debuglog('lock-socket');

/**
 * Nobody is there any more: the connection was refused, or closed before a single byte came
 * back (a holder that is releasing or dying). The caller tries the lock again. Internal.
 */
export class HolderGone extends Error {
  override readonly name = 'HolderGone';
  readonly refused: boolean;
  constructor(refused: boolean) {
    super(refused ? 'connection refused' : 'connection closed before the handshake');
    this.refused = refused;
  }
}

export interface Peer {
  addr: string;
  port: number;
  appId: string;
  maxFrameBytes: number;
  handshakeTimeout: number;
}

export interface ForwardRequest extends Peer {
  secret: Buffer;
  argv: string[];
  cwd: string;
  data: JsonValue | undefined;
  env: Record<string, string>;
  replyTimeout: number;
  onDelivered: ((delivery: Delivery) => void) | undefined;
}

/** Frames off a socket, one at a time, each with a deadline. */
class Conversation {
  readonly #socket: Socket;
  readonly #decoder: FrameDecoder;
  readonly #frames: Frame[] = [];
  #received = 0;
  #failure: unknown;
  #closed = false;
  #wake: (() => void) | undefined;

  constructor(socket: Socket, maxFrameBytes: number) {
    this.#socket = socket;
    this.#decoder = new FrameDecoder({ maxFrameBytes });
    // No setNoDelay here: the launcher only ever writes after reading the holder's answer, which
    // acknowledges what it sent before, so Nagle has nothing to hold back. (The holder, which
    // may write ACCEPTED and then REPLY, does disable it.)
    socket.on('data', (chunk: Buffer) => {
      this.#received += chunk.length;
      try {
        this.#frames.push(...this.#decoder.push(chunk));
      } catch (error) {
        this.#failure = error;
        socket.destroy();
      }
      this.#wake?.();
    });
    socket.on('error', (error) => {
      this.#failure ??= error;
      this.#wake?.();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake?.();
    });
  }

  get bytesReceived(): number {
    return this.#received;
  }

  send(bytes: Buffer): void {
    this.#socket.write(bytes);
  }

  close(): void {
    this.#socket.destroy();
  }

  /** The next frame; rejects on a decode error, on close (`closed`), or at the deadline. */
  async next(deadline: number, timeoutCode: typeof ErrorCode.ETIMEDOUT | typeof ErrorCode.EREPLYTIMEOUT): Promise<Frame> {
    for (;;) {
      const frame = this.#frames.shift();
      if (frame) return frame;
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#closed) throw new ClosedEarly(this.#received);
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        this.close();
        throw new LockSocketError(timeoutCode, timeoutCode === ErrorCode.ETIMEDOUT ? 'the holder did not answer the handshake in time' : 'the holder did not reply in time');
      }
      await new Promise<void>((resolve) => {
        const timer = Number.isFinite(remaining) ? setTimeout(resolve, remaining) : undefined;
        timer?.unref(); // the socket keeps the process alive while it matters
        this.#wake = () => {
          clearTimeout(timer);
          this.#wake = undefined;
          resolve();
        };
      });
    }
  }
}

class ClosedEarly extends Error {
  readonly bytesReceived: number;
  constructor(bytesReceived: number) {
    super('connection closed');
    this.bytesReceived = bytesReceived;
  }
}

function open(peer: Peer, deadline: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: peer.addr, port: peer.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new LockSocketError(ErrorCode.ETIMEDOUT, `could not connect to ${peer.addr}:${peer.port} in time`));
    }, Math.max(0, deadline - Date.now()));
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === 'ECONNREFUSED' || error.code === 'ECONNRESET') reject(new HolderGone(true));
      else reject(new LockSocketError(ErrorCode.ECLOSED, `cannot connect to ${peer.addr}:${peer.port}: ${error.message}`, { cause: error }));
    });
  });
}

/** Turns what went wrong before the holder proved itself into the launcher's error. */
function handshakeError(error: unknown, peer: Peer, bytesReceived: number): unknown {
  const where = `${peer.addr}:${peer.port}`;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  // A reset is a close too: a holder that is releasing (or dying) resets connections it has not served.
  if (error instanceof ClosedEarly || code === 'ECONNRESET' || code === 'EPIPE') {
    return bytesReceived === 0 ? new HolderGone(false) : new LockSocketError(ErrorCode.EFOREIGN, `${where} closed the connection in the middle of the handshake`);
  }
  if (error instanceof LockSocketError) {
    if (error.code === ErrorCode.ETIMEDOUT || error.code === ErrorCode.EVERSION) return error;
    return new LockSocketError(ErrorCode.EFOREIGN, `${where} does not speak the lock-socket protocol (${error.code}: ${error.message})`, { cause: error });
  }
  if (error instanceof HolderGone) return error;
  return new LockSocketError(ErrorCode.ECLOSED, `connection to ${where} failed: ${(error as Error).message}`, { cause: error });
}

/** Errors the holder itself reported: passed through as they are, not blamed on the handshake. */
const fromHolder = new WeakSet<Error>();

/** An ERROR frame from the holder, as the launcher's error. */
function remoteError(frame: Frame): LockSocketError {
  const { code, message } = decodeError(frame);
  const error = new LockSocketError(code, `holder: ${message}`);
  fromHolder.add(error);
  return error;
}

/** Connect, say hello, read the challenge. Everything before any secret is used. */
async function greet(peer: Peer, op: OpValue, deadline: number): Promise<{ talk: Conversation; challenge: Challenge; launcherNonce: Buffer }> {
  const socket = await open(peer, deadline);
  const talk = new Conversation(socket, peer.maxFrameBytes);
  const launcherNonce = nonce();
  try {
    talk.send(encodeHello({ op, appId: peer.appId, nonce: launcherNonce }));
    const frame = await talk.next(deadline, ErrorCode.ETIMEDOUT);
    if (frame.type === FrameType.ERROR) throw remoteError(frame);
    const challenge = decodeChallenge(frame);
    debug('challenge from pid %d (%s)', challenge.pid, challenge.appId);
    return { talk, challenge, launcherNonce };
  } catch (error) {
    talk.close();
    if (error instanceof Error && fromHolder.has(error)) throw error;
    throw handshakeError(error, peer, talk.bytesReceived);
  }
}

/** The holder's proof, or EAUTH. Nothing secret has been sent when this throws. */
function checkHolder(secret: Buffer, op: OpValue, peer: Peer, challenge: Challenge, launcherNonce: Buffer): void {
  if (challenge.appId !== peer.appId) {
    throw new LockSocketError(ErrorCode.EAPPID, `${peer.addr}:${peer.port} is held by ${JSON.stringify(challenge.appId)}, not ${JSON.stringify(peer.appId)}`);
  }
  const expected = makeProof(secret, 'holder', op, peer.appId, launcherNonce, challenge.nonce);
  if (!proofMatches(expected, challenge.proof)) {
    throw new LockSocketError(
      ErrorCode.EAUTH,
      `the holder of ${peer.addr}:${peer.port} could not prove it knows this user's secret for ${JSON.stringify(peer.appId)}; nothing was sent`,
    );
  }
}

/** Forwards one launch. Resolves with the holder's reply; HolderGone means "try the lock again". */
export async function forward(request: ForwardRequest): Promise<{ reply: LaunchReply; holderPid: number }> {
  const deadline = Date.now() + request.handshakeTimeout;
  const { talk, challenge, launcherNonce } = await greet(request, Op.LAUNCH, deadline);
  try {
    checkHolder(request.secret, Op.LAUNCH, request, challenge, launcherNonce);
    const proof = makeProof(request.secret, 'launcher', Op.LAUNCH, request.appId, launcherNonce, challenge.nonce);
    talk.send(encodeLaunch({ proof, argv: request.argv, cwd: request.cwd, data: request.data, env: request.env, pid: process.pid }));
    // From here on the launch may have reached the holder: never retry, or it could run twice.
    const accepted = await nextOrClosed(talk, deadline, ErrorCode.ETIMEDOUT, 'before accepting the launch');
    const { queued } = decodeAccepted(expect(accepted, FrameType.ACCEPTED));
    debug('launch accepted by pid %d (queued: %s)', challenge.pid, queued);
    request.onDelivered?.({ holderPid: challenge.pid, queued });
    const replyDeadline = request.replyTimeout === Infinity ? Infinity : Date.now() + request.replyTimeout;
    const reply = decodeReply(expect(await nextOrClosed(talk, replyDeadline, ErrorCode.EREPLYTIMEOUT, 'before replying'), FrameType.REPLY));
    return { reply, holderPid: challenge.pid };
  } finally {
    talk.close();
  }
}

/** Waits until the holder releases the lock (or goes away). Resolves; the caller tries the lock. */
export async function awaitRelease(request: Peer & { secret: Buffer }): Promise<void> {
  const deadline = Date.now() + request.handshakeTimeout;
  const { talk, challenge, launcherNonce } = await greet(request, Op.WAIT, deadline);
  try {
    checkHolder(request.secret, Op.WAIT, request, challenge, launcherNonce);
    talk.send(encodeWait(makeProof(request.secret, 'launcher', Op.WAIT, request.appId, launcherNonce, challenge.nonce)));
    debug('waiting for pid %d to release', challenge.pid);
    const frame = await talk.next(Infinity, ErrorCode.ETIMEDOUT).catch((error: unknown) => {
      if (error instanceof ClosedEarly) return undefined; // the holder died: as good as a release
      throw error;
    });
    if (frame?.type === FrameType.ERROR) throw remoteError(frame);
  } finally {
    talk.close();
  }
}

/** Asks who holds the lock. `secret` set: the holder must prove itself for `verified`. */
export async function queryStatus(peer: Peer, secret: Buffer | undefined): Promise<HolderStatus> {
  const { talk, challenge, launcherNonce } = await greet(peer, Op.STATUS, Date.now() + peer.handshakeTimeout);
  talk.close();
  let verified = false;
  if (secret !== undefined && challenge.appId === peer.appId) {
    verified = proofMatches(makeProof(secret, 'holder', Op.STATUS, peer.appId, launcherNonce, challenge.nonce), challenge.proof);
  }
  return {
    addr: peer.addr,
    port: peer.port,
    pid: challenge.pid,
    appId: challenge.appId,
    version: challenge.version,
    startedAt: challenge.startedAt,
    verified,
  };
}

async function nextOrClosed(
  talk: Conversation,
  deadline: number,
  timeoutCode: typeof ErrorCode.ETIMEDOUT | typeof ErrorCode.EREPLYTIMEOUT,
  when: string,
): Promise<Frame> {
  try {
    const frame = await talk.next(deadline, timeoutCode);
    if (frame.type === FrameType.ERROR) throw remoteError(frame);
    return frame;
  } catch (error) {
    if (error instanceof ClosedEarly) throw new LockSocketError(ErrorCode.ECLOSED, `the holder closed the connection ${when}`);
    // A reset (the holder was killed with our launch unread) is a system error, not ours:
    // it must still reach the caller as a code.
    if (!(error instanceof LockSocketError)) {
      throw new LockSocketError(ErrorCode.ECLOSED, `the connection to the holder failed ${when}: ${(error as Error).message}`, { cause: error });
    }
    throw error;
  }
}

function expect(frame: Frame, type: number): Frame {
  if (frame.type !== type) throw new LockSocketError(ErrorCode.EBADMESSAGE, `expected frame type ${type}, got ${frame.type}`);
  return frame;
}
