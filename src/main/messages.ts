/**
 * The protocol's messages: encoding, and validation of everything that arrives. Anything read
 * off the lock socket is untrusted (CVE-2026-34776 was an out-of-bounds read on exactly this
 * input in Electron), so every field is checked for type and size before it is used, and every
 * failure is a LockSocketError with its own code. Pure: no sockets, no timers.
 *
 * Two kinds of message:
 * - in clear, before the proofs: HELLO, CHALLENGE, FINISHED, and a holder's ERROR that refuses a
 *   peer it has not proven (such an ERROR keeps protocol 1's shape, so an older launcher can read it);
 * - sealed, after the proofs: their decoders take only an `Opened` message, which only
 *   `Opener.open()` makes once the frame has been authenticated (seal.ts).
 */
import { ErrorCode, LockSocketError, isErrorCode, type LockSocketErrorCode } from './errors.js';
import { MAGIC, MAX_APP_ID_BYTES, MAX_ENV_VARS, NONCE_BYTES, PROTOCOL_VERSION } from './constants.js';
import { encodeFrame, FrameType, SealedType, type Frame } from './frame.js';
import { PROOF_BYTES } from './keys.js';
import type { Opened } from './seal.js';
import type { JsonValue, LaunchData, LaunchReply } from './types.js';

export const Op = { LAUNCH: 'launch', WAIT: 'wait', STATUS: 'status' } as const;
export type OpValue = (typeof Op)[keyof typeof Op];

export interface Hello {
  op: OpValue;
  appId: string;
  nonce: Buffer;
}

/** What a holder tells about itself in its CHALLENGE (covered by its proof when it gives one). */
export interface HolderInfo {
  appId: string;
  nonce: Buffer;
  pid: number;
  startedAt: number;
  version: string;
}

export interface Challenge extends HolderInfo {
  /** The JSON bytes of the holder's info exactly as received: part of the transcript. */
  body: Buffer;
  /** Absent when the holder has no proof to give (a status query for another appId, or none). */
  proof: Buffer | undefined;
}

export interface LaunchMessage extends LaunchData {
  /** The largest frame the launcher accepts: the holder's reply must fit in it. */
  maxFrameBytes: number;
  /** The first output window: bytes of OUTPUT the launcher takes before it grants more. */
  output: number;
  /** Whether the launcher sends its stdin (INPUT messages, within the windows the holder grants). */
  input: boolean;
}

export interface ErrorMessage {
  code: LockSocketErrorCode;
  message: string;
}

export interface Limits {
  maxArgs: number;
  maxArgBytes: number;
}

// Made at the first decode: TextDecoder loads Node's encoding module, which a primary needs only
// once a second instance connects.
let utf8: InstanceType<typeof TextDecoder> | undefined;
const PREAMBLE_BYTES = MAGIC.length + 1;
const HAS_PROOF = 1;
/** The longest error message that travels; a longer one is cut. */
const MAX_ERROR_MESSAGE = 4096;

// -- encoding ----------------------------------------------------------------------------

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

function preambled(...parts: Buffer[]): Buffer {
  const preamble = Buffer.allocUnsafe(PREAMBLE_BYTES);
  MAGIC.copy(preamble, 0);
  preamble.writeUInt8(PROTOCOL_VERSION, MAGIC.length);
  return Buffer.concat([preamble, ...parts]);
}

export function encodeHello(hello: Hello): Buffer {
  return encodeFrame(FrameType.HELLO, preambled(json({ op: hello.op, appId: hello.appId, nonce: hello.nonce.toString('base64') })));
}

/** The JSON bytes of a holder's info, which its proof covers (so they are made before the proof). */
export function challengeBody(info: HolderInfo): Buffer {
  return json({ appId: info.appId, nonce: info.nonce.toString('base64'), pid: info.pid, startedAt: info.startedAt, version: info.version });
}

export function encodeChallenge(body: Buffer, proof: Buffer | undefined): Buffer {
  return encodeFrame(FrameType.CHALLENGE, proof ? preambled(Buffer.of(HAS_PROOF), proof, body) : preambled(Buffer.of(0), body));
}

export function encodeFinished(proof: Buffer): Buffer {
  return encodeFrame(FrameType.FINISHED, proof);
}

/** A holder's refusal of a peer it has not proven, in clear. */
export function encodeClearError(code: LockSocketErrorCode, message: string): Buffer {
  return encodeFrame(FrameType.ERROR, errorPayload(code, message));
}

export function launchPayload(m: LaunchMessage): Buffer {
  const body: Record<string, unknown> = { argv: m.argv, cwd: m.cwd, env: m.env, pid: m.pid, maxFrameBytes: m.maxFrameBytes, output: m.output, input: m.input };
  if (m.data !== undefined) body['data'] = m.data;
  return json(body);
}

export function acceptedPayload(queued: boolean): Buffer {
  return json({ queued });
}

export function errorPayload(code: LockSocketErrorCode, message: string): Buffer {
  return json({ code, message: message.length > MAX_ERROR_MESSAGE ? `${message.slice(0, MAX_ERROR_MESSAGE - 1)}…` : message });
}

export const RELEASED_PAYLOAD = json({});

/** A WINDOW: room for `bytes` more. */
export function windowPayload(bytes: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(bytes, 0);
  return payload;
}

/**
 * A handler's reply, checked and encoded, ready to seal; throws before anything is sent:
 * EINVALIDOPTION for a reply of the wrong shape or one JSON cannot encode (a cycle, a BigInt),
 * ETOOLARGE for a message over `maxArgBytes` or an encoding over `maxPayloadBytes`.
 */
export function replyPayload(value: unknown, maxArgBytes: number, maxPayloadBytes: number): Buffer {
  const reply = validateReply(value, maxArgBytes);
  let bytes: Buffer;
  try {
    bytes = json(reply);
  } catch (cause) {
    throw new LockSocketError(ErrorCode.EINVALIDOPTION, `reply.data cannot be encoded as JSON: ${(cause as Error).message}`, { cause });
  }
  if (bytes.length > maxPayloadBytes) {
    throw new LockSocketError(ErrorCode.ETOOLARGE, `the reply encodes to ${bytes.length} bytes, the launcher accepts at most ${maxPayloadBytes}`);
  }
  return bytes;
}

// -- decoding ----------------------------------------------------------------------------

function bad(message: string): LockSocketError {
  return new LockSocketError(ErrorCode.EBADMESSAGE, message);
}

function expectType(actual: number, type: number, name: string): void {
  if (actual !== type) throw bad(`expected a ${name} message, got type ${actual}`);
}

/** Text of a payload, or EBADUTF8. Only ever called on a complete frame. */
function text(bytes: Uint8Array): string {
  try {
    return (utf8 ??= new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })).decode(bytes);
  } catch (cause) {
    throw new LockSocketError(ErrorCode.EBADUTF8, 'frame payload is not valid UTF-8', { cause });
  }
}

function object(bytes: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text(bytes));
  } catch (cause) {
    if (cause instanceof LockSocketError) throw cause;
    throw new LockSocketError(ErrorCode.EBADMESSAGE, 'frame payload is not JSON', { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('frame payload is not a JSON object');
  return value as Record<string, unknown>;
}

/** The bytes after magic and version; EBADMAGIC or EVERSION first, so a stranger learns which. */
function afterPreamble(frame: Frame): Buffer {
  const p = frame.payload;
  if (p.length < PREAMBLE_BYTES || !p.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new LockSocketError(ErrorCode.EBADMAGIC, 'the first frame does not carry the lock-socket magic value');
  }
  const version = p[MAGIC.length] as number;
  if (version !== PROTOCOL_VERSION) {
    const older = version < PROTOCOL_VERSION ? ' (the older side must be updated: lock-socket 0.1 speaks protocol 1)' : '';
    throw new LockSocketError(ErrorCode.EVERSION, `peer speaks lock-socket protocol ${version}, this side speaks ${PROTOCOL_VERSION}${older}`);
  }
  return p.subarray(PREAMBLE_BYTES);
}

function checkString(v: unknown, name: string, maxBytes: number): string {
  if (typeof v !== 'string') throw bad(`${name} must be a string`);
  // UTF-8 is at most 3 bytes per UTF-16 unit: skip the exact count when it cannot matter.
  if (v.length * 3 > maxBytes && Buffer.byteLength(v, 'utf8') > maxBytes) {
    throw new LockSocketError(ErrorCode.ETOOLARGE, `${name} is longer than ${maxBytes} bytes`);
  }
  return v;
}

function string(o: Record<string, unknown>, key: string, maxBytes: number): string {
  return checkString(o[key], key, maxBytes);
}

function bytes(o: Record<string, unknown>, key: string, length: number): Buffer {
  const v = o[key];
  if (typeof v !== 'string' || v.length > 4 * Math.ceil(length / 3) + 4) throw bad(`${key} must be base64`);
  const b = Buffer.from(v, 'base64');
  if (b.length !== length) throw bad(`${key} must be ${length} bytes`);
  return b;
}

function boolean(o: Record<string, unknown>, key: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw bad(`${key} must be a boolean`);
  return v;
}

function integer(o: Record<string, unknown>, key: string, min: number, max: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw bad(`${key} must be an integer from ${min} to ${max}`);
  }
  return v;
}

// The first frame of each side checks magic and version before its type, so a peer that does
// not speak the protocol at all gets EBADMAGIC, not a confusing "wrong frame type".
export function decodeHello(frame: Frame): Hello {
  const body = afterPreamble(frame);
  expectType(frame.type, FrameType.HELLO, 'HELLO');
  const o = object(body);
  const op = o['op'];
  if (op !== Op.LAUNCH && op !== Op.WAIT && op !== Op.STATUS) throw bad('op must be launch, wait or status');
  return { op, appId: string(o, 'appId', MAX_APP_ID_BYTES), nonce: bytes(o, 'nonce', NONCE_BYTES) };
}

export function decodeChallenge(frame: Frame): Challenge {
  const rest = afterPreamble(frame);
  expectType(frame.type, FrameType.CHALLENGE, 'CHALLENGE');
  const flags = rest[0];
  if (flags !== 0 && flags !== HAS_PROOF) throw bad('CHALLENGE flags must be 0 or 1');
  const proof = flags === HAS_PROOF ? rest.subarray(1, 1 + PROOF_BYTES) : undefined;
  if (proof && proof.length !== PROOF_BYTES) throw bad(`proof must be ${PROOF_BYTES} bytes`);
  const body = rest.subarray(1 + (proof ? PROOF_BYTES : 0));
  const o = object(body);
  return {
    body,
    proof,
    appId: string(o, 'appId', MAX_APP_ID_BYTES),
    nonce: bytes(o, 'nonce', NONCE_BYTES),
    pid: integer(o, 'pid', 0, 2 ** 32),
    startedAt: integer(o, 'startedAt', 0, Number.MAX_SAFE_INTEGER),
    version: string(o, 'version', 64),
  };
}

export function decodeFinished(frame: Frame): Buffer {
  expectType(frame.type, FrameType.FINISHED, 'FINISHED');
  if (frame.payload.length !== PROOF_BYTES) throw bad(`FINISHED must carry ${PROOF_BYTES} bytes`);
  return frame.payload;
}

/** A LAUNCH, from a sealed message: the peer has proved itself before any limit is examined. */
export function decodeLaunch(message: Opened, limits: Limits): LaunchMessage {
  expectType(message.type, SealedType.LAUNCH, 'LAUNCH');
  const o = object(message.payload);
  const argv = o['argv'];
  if (!Array.isArray(argv)) throw bad('argv must be an array');
  if (argv.length > limits.maxArgs) {
    throw new LockSocketError(ErrorCode.ETOOMANYARGS, `${argv.length} arguments, the maximum is ${limits.maxArgs}`);
  }
  for (let i = 0; i < argv.length; i++) checkString(argv[i], `argv[${i}]`, limits.maxArgBytes);
  const env = o['env'];
  if (typeof env !== 'object' || env === null || Array.isArray(env)) throw bad('env must be an object');
  const names = Object.keys(env);
  if (names.length > MAX_ENV_VARS) throw new LockSocketError(ErrorCode.ETOOLARGE, `more than ${MAX_ENV_VARS} environment variables`);
  const cleanEnv: Record<string, string> = Object.create(null);
  for (const name of names) {
    if (name.length === 0 || name.length > 256 || name.includes('=') || name.includes('\0')) throw bad('invalid environment variable name');
    cleanEnv[name] = checkString((env as Record<string, unknown>)[name], `env.${name}`, limits.maxArgBytes);
  }
  return {
    argv: argv as string[],
    cwd: string(o, 'cwd', limits.maxArgBytes),
    data: Object.hasOwn(o, 'data') ? (o['data'] as JsonValue) : undefined,
    env: { ...cleanEnv },
    pid: integer(o, 'pid', 0, 2 ** 32),
    maxFrameBytes: integer(o, 'maxFrameBytes', 0, 2 ** 32),
    output: integer(o, 'output', 0, 2 ** 32 - 1),
    input: boolean(o, 'input'),
  };
}

export function decodeAccepted(message: Opened): { queued: boolean } {
  expectType(message.type, SealedType.ACCEPTED, 'ACCEPTED');
  return { queued: boolean(object(message.payload), 'queued') };
}

/** Validates a reply, from a handler (before sending) or off the wire (after receiving). */
export function validateReply(value: unknown, maxBytes: number): LaunchReply {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LockSocketError(ErrorCode.EINVALIDOPTION, 'a reply must be an object { exitCode, message?, data? }');
  }
  const o = value as Record<string, unknown>;
  const exitCode = o['exitCode'];
  if (typeof exitCode !== 'number' || !Number.isInteger(exitCode) || exitCode < 0 || exitCode > 255) {
    throw new LockSocketError(ErrorCode.EINVALIDOPTION, 'reply.exitCode must be an integer from 0 to 255');
  }
  const reply: LaunchReply = { exitCode };
  if (o['message'] !== undefined) reply.message = string(o, 'message', maxBytes);
  if (o['data'] !== undefined) reply.data = o['data'] as JsonValue;
  return reply;
}

export function decodeReply(message: Opened, maxArgBytes: number): LaunchReply {
  expectType(message.type, SealedType.REPLY, 'REPLY');
  try {
    return validateReply(object(message.payload), maxArgBytes);
  } catch (cause) {
    if (cause instanceof LockSocketError && cause.code === ErrorCode.EINVALIDOPTION) throw bad(cause.message);
    throw cause;
  }
}

/** An OUTPUT: which of the launcher's streams (1 stdout, 2 stderr), and the bytes. */
export function decodeOutput(message: Opened): { fd: 1 | 2; bytes: Buffer } {
  expectType(message.type, SealedType.OUTPUT, 'OUTPUT');
  const fd = message.payload[0];
  if (fd !== 1 && fd !== 2) throw bad('OUTPUT must name stream 1 (stdout) or 2 (stderr)');
  return { fd, bytes: message.payload.subarray(1) };
}

export function decodeWindow(message: Opened): number {
  expectType(message.type, SealedType.WINDOW, 'WINDOW');
  if (message.payload.length !== 4) throw bad('WINDOW must carry 4 bytes');
  return message.payload.readUInt32BE(0);
}

export function decodeInput(message: Opened): Buffer {
  expectType(message.type, SealedType.INPUT, 'INPUT');
  return message.payload;
}

export function decodeReleased(message: Opened): void {
  expectType(message.type, SealedType.RELEASED, 'RELEASED');
}

/** An ERROR: a sealed one from a proven holder, or a clear frame from one that is not. */
export function decodeError(message: Opened | Frame): ErrorMessage {
  expectType(message.type, FrameType.ERROR, 'ERROR');
  const o = object(message.payload);
  const code = o['code'];
  if (!isErrorCode(code)) throw bad('error frame with an unknown code');
  return { code, message: string(o, 'message', MAX_ERROR_MESSAGE * 3) };
}
