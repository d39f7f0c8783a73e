/**
 * The protocol's messages: encoding, and validation of everything that arrives. Anything read
 * off the lock socket is untrusted (CVE-2026-34776 was an out-of-bounds read on exactly this
 * input in Electron), so every field is checked for type and size before it is used, and every
 * failure is a LockSocketError with its own code. Pure: no sockets, no timers.
 */
import { ErrorCode, LockSocketError, isErrorCode, type LockSocketErrorCode } from '../lock/errors.js';
import {
  DEFAULT_MAX_ARG_BYTES,
  DEFAULT_MAX_ARGS,
  MAGIC,
  MAX_APP_ID_BYTES,
  MAX_ENV_VARS,
  NONCE_BYTES,
  PROTOCOL_VERSION,
} from './constants.js';
import { encodeFrame, FrameType, type Frame } from './frame.js';
import type { JsonValue, LaunchReply } from './types.js';

export const Op = { LAUNCH: 'launch', WAIT: 'wait', STATUS: 'status' } as const;
export type OpValue = (typeof Op)[keyof typeof Op];

export interface Hello {
  op: OpValue;
  appId: string;
  nonce: Buffer;
}

export interface Challenge {
  appId: string;
  nonce: Buffer;
  /** Absent when the holder has no proof to give (a status query for another or no appId). */
  proof: Buffer | undefined;
  pid: number;
  startedAt: number;
  version: string;
}

export interface LaunchMessage {
  proof: Buffer;
  argv: string[];
  cwd: string;
  data: JsonValue | undefined;
  env: Record<string, string>;
  pid: number;
}

export interface ErrorMessage {
  code: LockSocketErrorCode;
  message: string;
}

export interface Limits {
  maxArgs: number;
  maxArgBytes: number;
}

export const DEFAULT_LIMITS: Limits = { maxArgs: DEFAULT_MAX_ARGS, maxArgBytes: DEFAULT_MAX_ARG_BYTES };

// Made at the first decode: TextDecoder loads Node's encoding module, which a primary needs only
// once a second instance connects.
let utf8: InstanceType<typeof TextDecoder> | undefined;
const PREAMBLE_BYTES = MAGIC.length + 1;

// -- encoding ----------------------------------------------------------------------------

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

function withPreamble(body: Buffer): Buffer {
  const preamble = Buffer.allocUnsafe(PREAMBLE_BYTES);
  MAGIC.copy(preamble, 0);
  preamble.writeUInt8(PROTOCOL_VERSION, MAGIC.length);
  return Buffer.concat([preamble, body]);
}

export function encodeHello(hello: Hello): Buffer {
  const body = json({ op: hello.op, appId: hello.appId, nonce: hello.nonce.toString('base64') });
  return encodeFrame(FrameType.HELLO, withPreamble(body));
}

export function encodeChallenge(c: Challenge): Buffer {
  const body = json({
    appId: c.appId,
    nonce: c.nonce.toString('base64'),
    proof: c.proof?.toString('base64') ?? null,
    pid: c.pid,
    startedAt: c.startedAt,
    version: c.version,
  });
  return encodeFrame(FrameType.CHALLENGE, withPreamble(body));
}

export function encodeLaunch(m: LaunchMessage): Buffer {
  const body: Record<string, unknown> = {
    proof: m.proof.toString('base64'),
    argv: m.argv,
    cwd: m.cwd,
    env: m.env,
    pid: m.pid,
  };
  if (m.data !== undefined) body['data'] = m.data;
  return encodeFrame(FrameType.LAUNCH, json(body));
}

export function encodeWait(proof: Buffer): Buffer {
  return encodeFrame(FrameType.WAIT, json({ proof: proof.toString('base64') }));
}

export function encodeAccepted(queued: boolean): Buffer {
  return encodeFrame(FrameType.ACCEPTED, json({ queued }));
}

export function encodeReply(reply: LaunchReply): Buffer {
  return encodeFrame(FrameType.REPLY, json(reply));
}

export function encodeError(code: LockSocketErrorCode, message: string): Buffer {
  return encodeFrame(FrameType.ERROR, json({ code, message }));
}

export function encodeReleased(): Buffer {
  return encodeFrame(FrameType.RELEASED, json({}));
}

// -- decoding ----------------------------------------------------------------------------

function bad(message: string): LockSocketError {
  return new LockSocketError(ErrorCode.EBADMESSAGE, message);
}

function expectType(frame: Frame, type: number, name: string): void {
  if (frame.type !== type) throw bad(`expected a ${name} frame, got type ${frame.type}`);
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

function preamble(frame: Frame): Record<string, unknown> {
  const p = frame.payload;
  if (p.length < PREAMBLE_BYTES || !p.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new LockSocketError(ErrorCode.EBADMAGIC, 'the first frame does not carry the lock-socket magic value');
  }
  const version = p[MAGIC.length];
  if (version !== PROTOCOL_VERSION) {
    throw new LockSocketError(ErrorCode.EVERSION, `peer speaks protocol version ${version}, this side speaks ${PROTOCOL_VERSION}`);
  }
  return object(p.subarray(PREAMBLE_BYTES));
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
  const o = preamble(frame);
  expectType(frame, FrameType.HELLO, 'HELLO');
  const op = o['op'];
  if (op !== Op.LAUNCH && op !== Op.WAIT && op !== Op.STATUS) throw bad('op must be launch, wait or status');
  return { op, appId: string(o, 'appId', MAX_APP_ID_BYTES), nonce: bytes(o, 'nonce', NONCE_BYTES) };
}

export function decodeChallenge(frame: Frame): Challenge {
  const o = preamble(frame);
  expectType(frame, FrameType.CHALLENGE, 'CHALLENGE');
  return {
    appId: string(o, 'appId', MAX_APP_ID_BYTES),
    nonce: bytes(o, 'nonce', NONCE_BYTES),
    proof: o['proof'] === null ? undefined : bytes(o, 'proof', 32),
    pid: integer(o, 'pid', 0, 2 ** 32),
    startedAt: integer(o, 'startedAt', 0, Number.MAX_SAFE_INTEGER),
    version: string(o, 'version', 64),
  };
}

/**
 * `authenticate` sees the proof before anything else is examined: a launcher that cannot prove
 * itself learns nothing about the holder's limits, only EAUTH.
 */
export function decodeLaunch(frame: Frame, limits: Limits = DEFAULT_LIMITS, authenticate: (proof: Buffer) => void = () => {}): LaunchMessage {
  expectType(frame, FrameType.LAUNCH, 'LAUNCH');
  const o = object(frame.payload);
  const proof = bytes(o, 'proof', 32);
  authenticate(proof);
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
    proof,
    argv: argv as string[],
    cwd: string(o, 'cwd', limits.maxArgBytes),
    data: Object.hasOwn(o, 'data') ? (o['data'] as JsonValue) : undefined,
    env: { ...cleanEnv },
    pid: integer(o, 'pid', 0, 2 ** 32),
  };
}

export function decodeWait(frame: Frame): Buffer {
  expectType(frame, FrameType.WAIT, 'WAIT');
  return bytes(object(frame.payload), 'proof', 32);
}

export function decodeAccepted(frame: Frame): { queued: boolean } {
  const o = object(frame.payload);
  if (typeof o['queued'] !== 'boolean') throw bad('queued must be a boolean');
  return { queued: o['queued'] };
}

/** Validates a reply, from a handler (before sending) or off the wire (after receiving). */
export function validateReply(value: unknown, maxBytes: number = DEFAULT_MAX_ARG_BYTES): LaunchReply {
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

export function decodeReply(frame: Frame): LaunchReply {
  try {
    return validateReply(object(frame.payload));
  } catch (cause) {
    if (cause instanceof LockSocketError && cause.code === ErrorCode.EINVALIDOPTION) throw bad(cause.message);
    throw cause;
  }
}

export function decodeError(frame: Frame): ErrorMessage {
  const o = object(frame.payload);
  const code = o['code'];
  if (!isErrorCode(code)) throw bad('error frame with an unknown code');
  return { code, message: string(o, 'message', 4096) };
}
