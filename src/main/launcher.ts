/**
 * The launcher's side of the lock socket: connect to the holder, make it prove itself, then (and
 * only then) send the launch, sealed, and wait for "accepted" and for the reply. Also the two
 * other conversations: waiting for the holder to release, and asking who holds the lock.
 *
 * Each function resolves with a result — including `Gone`, "nobody is there any more: try the
 * lock again" — and rejects only with a LockSocketError whose code says how far the launch got
 * (docs/protocol.md, "What a launcher's error says about delivery").
 */
import { connect, type Socket } from 'node:net';
import type { KeyObject } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { formatEndpoint } from '../lock/address.js';
import { ErrorCode, LockSocketError, type LockSocketErrorCode } from './errors.js';
import { MAX_HANDSHAKE_FRAME_BYTES } from './constants.js';
import { debug } from './debug.js';
import { FrameDecoder, FrameType, SealedType, type Frame } from './frame.js';
import { deriveKeys, nonce, proofMatches, transcriptHash, type Keys } from './keys.js';
import {
  decodeAccepted,
  decodeChallenge,
  decodeError,
  decodeOutput,
  decodeWindow,
  decodeReleased,
  decodeReply,
  encodeFinished,
  encodeHello,
  launchPayload,
  Op,
  type Challenge,
  type OpValue,
} from './messages.js';
import { LauncherIO, OUTPUT_WINDOW } from './launcher-io.js';
import { Opener, Sealer, type Opened } from './seal.js';
import type { Delivery, HolderStatus, LaunchData, LaunchReply } from './types.js';

/**
 * Something holds the port that is provably not this user's holder of this app: it does not speak
 * the protocol, refused before proving itself, answers for another app, or cannot prove it knows
 * the secret. Nothing of the launch was sent; the claim steps to the next endpoint.
 */
export interface Foreign {
  kind: 'foreign';
  /** EFOREIGN or EAUTH, saying which and why. */
  error: LockSocketError;
}

/** Nobody is there any more: the connection was refused, or closed before a byte came back. */
export interface Gone {
  kind: 'gone';
  /** True for a refused connection (nothing listens), false for a close without a handshake. */
  refused: boolean;
}

export interface Peer {
  addr: string;
  port: number;
  appId: string;
  maxFrameBytes: number;
  maxArgBytes: number;
  handshakeTimeout: number;
}

/** A launch to send (its pid is this process's), and how. */
export interface ForwardRequest extends Peer, Omit<LaunchData, 'pid'> {
  secret: KeyObject;
  replyTimeout: number;
  /** Where the holder's output goes, and the stdin sent to it (none: the holder's `launch.stdin` ends at once). */
  stdout: Writable;
  stderr: Writable;
  stdin: Readable | undefined;
  onProven: ((holder: { holderPid: number }) => void) | undefined;
  onDelivered: ((delivery: Delivery) => void) | undefined;
}

/** What reading the next frame came to. */
type Next =
  | { kind: 'frame'; frame: Frame }
  | { kind: 'closed' }
  | { kind: 'timeout' }
  /** A decoder error (a LockSocketError) or a socket error such as ECONNRESET. */
  | { kind: 'failed'; error: Error };

/** Frames off a socket, one at a time, each with a deadline. Never throws. */
class Conversation {
  readonly socket: Socket;
  readonly decoder = new FrameDecoder({ maxFrameBytes: MAX_HANDSHAKE_FRAME_BYTES });
  #received = 0;
  #failure: Error | undefined;
  #closed = false;
  #wake: (() => void) | undefined;

  constructor(socket: Socket) {
    this.socket = socket;
    // No setNoDelay here: the launcher writes only after reading the holder's answer, which
    // acknowledges what it sent before, so Nagle has nothing to hold back.
    socket.on('data', (chunk: Buffer) => {
      this.#received += chunk.length;
      this.decoder.write(chunk);
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
    this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }

  async next(deadline: number): Promise<Next> {
    for (;;) {
      try {
        const frame = this.decoder.read();
        if (frame) return { kind: 'frame', frame };
      } catch (error) {
        this.close();
        return { kind: 'failed', error: error as Error };
      }
      if (this.#failure !== undefined) return { kind: 'failed', error: this.#failure };
      if (this.#closed) return { kind: 'closed' };
      const remaining = deadline - Date.now();
      if (remaining <= 0) return { kind: 'timeout' };
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

function fail(code: LockSocketErrorCode, message: string, cause?: unknown): LockSocketError {
  return new LockSocketError(code, message, cause === undefined ? undefined : { cause });
}

function open(peer: Peer, deadline: number): Promise<Socket | Gone> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: peer.addr, port: peer.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(fail(ErrorCode.EHANDSHAKETIMEOUT, `could not connect to ${formatEndpoint(peer.addr, peer.port)} in time`));
    }, Math.max(0, deadline - Date.now()));
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // Refused: nothing listens. Reset: something listens, and closed this connection at once
      // (a holder releasing, or not serving yet): the same as a close before the handshake.
      if (error.code === 'ECONNREFUSED' || error.code === 'ECONNRESET') resolve({ kind: 'gone', refused: error.code === 'ECONNREFUSED' });
      else reject(fail(ErrorCode.ECLOSED, `cannot connect to ${formatEndpoint(peer.addr, peer.port)}: ${error.message}`, error));
    });
  });
}

interface Greeting {
  kind: 'greeting';
  talk: Conversation;
  challenge: Challenge;
  /** Undefined when no secret was given (an unverified status query). */
  keys: Keys | undefined;
}

/**
 * Connect, say hello, read the CHALLENGE, derive the keys. Before the holder has proved itself
 * nothing it says is trusted: an ERROR it sends can only mean "not your holder" (EFOREIGN), with
 * one exception, EVERSION, which says that an update is due and nothing more.
 */
async function greet(peer: Peer, op: OpValue, secret: KeyObject | undefined, deadline: number): Promise<Greeting | Gone | Foreign> {
  const socket = await open(peer, deadline);
  if ('kind' in socket) return socket;
  const talk = new Conversation(socket);
  const where = formatEndpoint(peer.addr, peer.port);
  const hello = encodeHello({ op, appId: peer.appId, nonce: nonce() });
  talk.send(hello);
  const next = await talk.next(deadline);
  try {
    switch (next.kind) {
      case 'timeout':
        throw fail(ErrorCode.EHANDSHAKETIMEOUT, `${where} did not answer the handshake in time`);
      case 'closed':
      case 'failed': {
        // A close (or a reset) before a single byte: a holder that is releasing or dying.
        if (talk.bytesReceived === 0 && (next.kind === 'closed' || isReset(next.error))) return { kind: 'gone', refused: false };
        const why = next.kind === 'closed' ? 'closed the connection in the middle of the handshake' : `does not speak the lock-socket protocol (${describe(next.error)})`;
        return foreign(talk, fail(ErrorCode.EFOREIGN, `${where} ${why}`, next.kind === 'failed' ? next.error : undefined));
      }
      case 'frame':
        break;
    }
    const frame = next.frame;
    if (frame.type === FrameType.ERROR) {
      const refused = refusal(where, frame);
      if (refused.code === ErrorCode.EVERSION) throw refused; // this app, another version: not to be stepped past
      return foreign(talk, refused);
    }
    let challenge: Challenge;
    try {
      challenge = decodeChallenge(frame);
    } catch (error) {
      if (error instanceof LockSocketError && error.code === ErrorCode.EVERSION) throw error;
      return foreign(talk, fail(ErrorCode.EFOREIGN, `${where} does not speak the lock-socket protocol (${describe(error)})`, error));
    }
    debug('challenge from pid %d (%s)', challenge.pid, challenge.appId);
    const keys = secret && deriveKeys(secret, transcriptHash(where, hello.subarray(5), challenge.body));
    return { kind: 'greeting', talk, challenge, keys };
  } catch (error) {
    talk.close();
    throw error;
  }
}

function foreign(talk: Conversation, error: LockSocketError): Foreign {
  talk.close();
  return { kind: 'foreign', error };
}

/** A clear ERROR from a holder that has not proved itself. */
function refusal(where: string, frame: Frame): LockSocketError {
  let said: { code: LockSocketErrorCode; message: string };
  try {
    said = decodeError(frame);
  } catch (error) {
    return fail(ErrorCode.EFOREIGN, `${where} does not speak the lock-socket protocol (${describe(error)})`, error);
  }
  if (said.code === ErrorCode.EVERSION) return fail(ErrorCode.EVERSION, `${where}: ${said.message}`);
  return fail(ErrorCode.EFOREIGN, `${where} refused before proving it is this user's holder (it said ${said.code}: ${said.message})`);
}

/** The holder's proof checked: its keys, or Foreign (EFOREIGN, EAUTH). Nothing of the launch has been sent. */
function checkHolder(peer: Peer, greeting: Greeting): Keys | Foreign {
  const { challenge, keys, talk } = greeting;
  const where = formatEndpoint(peer.addr, peer.port);
  if (challenge.appId !== peer.appId) {
    return foreign(talk, fail(ErrorCode.EFOREIGN, `${where} answers for ${JSON.stringify(challenge.appId)}, not ${JSON.stringify(peer.appId)} (unverified)`));
  }
  if (!keys || !proofMatches(keys.holderProof, challenge.proof)) {
    return foreign(talk, fail(ErrorCode.EAUTH, `the holder of ${where} could not prove it knows this user's secret for ${JSON.stringify(peer.appId)}; nothing was sent`));
  }
  return keys;
}

/** A sealed message from the holder, or why there is none. */
type Answer = { kind: 'message'; message: Opened } | Exclude<Next, { kind: 'frame' }>;

async function answer(talk: Conversation, opener: Opener, deadline: number): Promise<Answer> {
  const next = await talk.next(deadline);
  if (next.kind !== 'frame') return next;
  try {
    return { kind: 'message', message: opener.open(next.frame) };
  } catch (error) {
    talk.close();
    return { kind: 'failed', error: error as Error };
  }
}

/** The holder's sealed ERROR as the launcher's error: authenticated, so its code is the holder's word. */
function holderError(message: Opened): LockSocketError {
  const { code, message: text } = decodeError(message);
  return fail(code, `holder: ${text}`);
}

/**
 * Forwards one launch. Resolves with the holder's reply, or `Gone` ("try the lock again",
 * only ever before anything of the launch was sent).
 */
export async function forward(request: ForwardRequest): Promise<{ kind: 'replied'; reply: LaunchReply; holderPid: number } | Gone | Foreign> {
  const deadline = Date.now() + request.handshakeTimeout;
  const greeting = await greet(request, Op.LAUNCH, request.secret, deadline);
  if (greeting.kind !== 'greeting') return greeting;
  const { talk, challenge } = greeting;
  try {
    const keys = checkHolder(request, greeting);
    if ('kind' in keys) return keys;
    request.onProven?.({ holderPid: challenge.pid });
    const sealer = new Sealer(keys.launcherKey);
    const opener = new Opener(keys.holderKey);
    talk.decoder.maxFrameBytes = request.maxFrameBytes;
    const launch = launchPayload({ ...request, pid: process.pid, output: OUTPUT_WINDOW, input: request.stdin !== undefined });
    talk.send(Buffer.concat([encodeFinished(keys.launcherProof), sealer.seal(SealedType.LAUNCH, launch)]));
    // From here on the launch may have reached the holder: until it says ACCEPTED (or refuses, in
    // a sealed ERROR) nothing can tell whether it ran, so every failure is EINDOUBT, never retried.
    const accepted = await answer(talk, opener, deadline);
    if (accepted.kind !== 'message') throw inDoubt(accepted);
    if (accepted.message.type === SealedType.ERROR) throw holderError(accepted.message);
    let queued: boolean;
    try {
      ({ queued } = decodeAccepted(accepted.message));
    } catch (error) {
      throw inDoubt({ kind: 'failed', error: error as Error });
    }
    debug('launch accepted by pid %d (queued: %s)', challenge.pid, queued);
    request.onDelivered?.({ holderPid: challenge.pid, queued });
    const replyDeadline = request.replyTimeout === Infinity ? Infinity : Date.now() + request.replyTimeout;
    const io = new LauncherIO({ stdout: request.stdout, stderr: request.stderr, stdin: request.stdin, send: (type, payload) => talk.send(sealer.seal(type, payload)) });
    try {
      for (;;) {
        const replied = await answer(talk, opener, replyDeadline);
        switch (replied.kind) {
          case 'message': {
            const message = replied.message;
            if (message.type === SealedType.OUTPUT) {
              const { fd, bytes } = decodeOutput(message);
              io.output(fd, bytes);
              continue;
            }
            if (message.type === SealedType.WINDOW) {
              io.window(decodeWindow(message));
              continue;
            }
            if (message.type === SealedType.ERROR) throw holderError(message);
            const reply = decodeReply(message, request.maxArgBytes);
            // The holder's output is written out before the launch resolves with its reply.
            await io.flushed();
            return { kind: 'replied', reply, holderPid: challenge.pid };
          }
          case 'timeout':
            throw fail(ErrorCode.EREPLYTIMEOUT, `the holder accepted the launch but did not reply within ${request.replyTimeout} ms`);
          case 'closed':
            throw fail(ErrorCode.ECLOSED, 'the holder accepted the launch, then closed the connection before replying');
          case 'failed':
            if (replied.error instanceof LockSocketError) throw fail(replied.error.code, `the launch was delivered, but its reply failed: ${replied.error.message}`, replied.error);
            throw fail(ErrorCode.ECLOSED, `the holder accepted the launch, then the connection failed before the reply: ${replied.error.message}`, replied.error);
        }
      }
    } finally {
      io.close();
    }
  } finally {
    talk.close();
  }
}

function inDoubt(outcome: Exclude<Answer, { kind: 'message' }>): LockSocketError {
  const why =
    outcome.kind === 'timeout'
      ? 'the holder did not confirm it in time'
      : outcome.kind === 'closed'
        ? 'the connection closed before the holder confirmed it'
        : `the holder's confirmation failed (${describe(outcome.error)})`;
  return fail(ErrorCode.EINDOUBT, `the launch was sent, but ${why}: it may have run; do not retry it blindly`, outcome.kind === 'failed' ? outcome.error : undefined);
}

/** Waits until the holder releases the lock (or goes away); the caller then tries the lock again. */
export async function awaitRelease(request: Peer & { secret: KeyObject }): Promise<{ kind: 'released' } | Gone | Foreign> {
  const greeting = await greet(request, Op.WAIT, request.secret, Date.now() + request.handshakeTimeout);
  if (greeting.kind !== 'greeting') return greeting;
  const { talk } = greeting;
  try {
    const keys = checkHolder(request, greeting);
    if ('kind' in keys) return keys;
    talk.send(encodeFinished(keys.launcherProof));
    debug('waiting for pid %d to release', greeting.challenge.pid);
    const outcome = await answer(talk, new Opener(keys.holderKey), Infinity);
    if (outcome.kind === 'message') {
      if (outcome.message.type === SealedType.ERROR) throw holderError(outcome.message);
      decodeReleased(outcome.message);
    } else if (outcome.kind === 'failed' && outcome.error instanceof LockSocketError) {
      throw fail(outcome.error.code, `while waiting for the release: ${outcome.error.message}`, outcome.error);
    }
    // A close or a reset: the holder died, which frees the lock as surely as a release.
    return { kind: 'released' };
  } finally {
    talk.close();
  }
}

/** Asks who holds the lock. With `secret`, `verified` says whether the holder proved itself. */
export async function queryStatus(peer: Peer, secret: KeyObject | undefined): Promise<{ kind: 'status'; status: HolderStatus } | Gone | Foreign> {
  const greeting = await greet(peer, Op.STATUS, secret, Date.now() + peer.handshakeTimeout);
  if (greeting.kind !== 'greeting') return greeting;
  greeting.talk.close();
  const { challenge, keys } = greeting;
  const verified = challenge.appId === peer.appId && keys !== undefined && proofMatches(keys.holderProof, challenge.proof);
  const { pid, appId, version, startedAt } = challenge;
  return { kind: 'status', status: { addr: peer.addr, port: peer.port, pid, appId, version, startedAt, verified } };
}

function isReset(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

function describe(error: unknown): string {
  return error instanceof LockSocketError ? `${error.code}: ${error.message}` : (error as Error).message;
}
