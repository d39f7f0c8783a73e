/**
 * Every decoder and validator of messages.ts: round trips, and each malformed message with its
 * code, class and message.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FrameType, encodeFrame, type Frame } from '../../src/main/frame.js';
import {
  decodeAccepted,
  decodeChallenge,
  decodeError,
  decodeHello,
  decodeLaunch,
  decodeReply,
  decodeWait,
  encodeAccepted,
  encodeChallenge,
  encodeError,
  encodeHello,
  encodeLaunch,
  encodeReply,
  encodeWait,
  validateReply,
  Op,
} from '../../src/main/messages.js';
import { DEFAULT_MAX_ARGS, MAGIC, MAX_APP_ID_BYTES, MAX_ENV_VARS, PROTOCOL_VERSION } from '../../src/main/constants.js';
import { LockSocketError } from '../../src/lock/errors.js';

const N = Buffer.alloc(32, 9);
const P = Buffer.alloc(32, 3);

function frame(bytes: Buffer): Frame {
  return { type: bytes[4] as number, payload: bytes.subarray(5) };
}
function json(type: number, value: unknown, pre = false): Frame {
  const body = Buffer.from(JSON.stringify(value));
  return { type, payload: pre ? Buffer.concat([MAGIC, Buffer.of(PROTOCOL_VERSION), body]) : body };
}
function throwsCode(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof LockSocketError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}
const launchBody = { proof: P.toString('base64'), argv: ['a'], cwd: '/', env: {}, pid: 1 };

describe('messages: round trips', () => {
  test('hello, challenge, launch, wait, accepted, reply, error', () => {
    assert.deepEqual(decodeHello(frame(encodeHello({ op: Op.WAIT, appId: 'ü.app', nonce: N }))), { op: 'wait', appId: 'ü.app', nonce: N });
    const c = { appId: 'x', nonce: N, proof: undefined, pid: 7, startedAt: 123, version: '0.1.0' };
    assert.deepEqual(decodeChallenge(frame(encodeChallenge(c))), c);
    assert.deepEqual(decodeChallenge(frame(encodeChallenge({ ...c, proof: P }))).proof, P);
    const l = { proof: P, argv: ['', ' x ', '\ud800', '🎉'], cwd: '/', data: { a: [1, null] }, env: { A: 'b' }, pid: 2 };
    assert.deepEqual(decodeLaunch(frame(encodeLaunch(l))), l);
    assert.equal(decodeLaunch(frame(encodeLaunch({ ...l, data: undefined }))).data, undefined);
    assert.deepEqual(decodeWait(frame(encodeWait(P))), P);
    assert.deepEqual(decodeAccepted(frame(encodeAccepted(true))), { queued: true });
    assert.deepEqual(decodeReply(frame(encodeReply({ exitCode: 3, message: 'm', data: [1] }))), { exitCode: 3, message: 'm', data: [1] });
    assert.deepEqual(decodeError(frame(encodeError('EAUTH', 'no'))), { code: 'EAUTH', message: 'no' });
  });
});

describe('messages: each malformed message has its code', () => {
  const hello = { op: 'launch', appId: 'a', nonce: N.toString('base64') };

  test('preamble: EBADMAGIC, EVERSION, checked before the frame type', () => {
    throwsCode(() => decodeHello({ type: 1, payload: Buffer.from('LKS') }), 'EBADMAGIC', /magic/);
    throwsCode(() => decodeHello({ type: 1, payload: Buffer.from('XKSK\x01{}') }), 'EBADMAGIC', /magic/);
    throwsCode(() => decodeHello({ type: 99, payload: Buffer.from('GET / HTTP/1.1') }), 'EBADMAGIC', /magic/);
    throwsCode(() => decodeChallenge({ type: 2, payload: Buffer.concat([MAGIC, Buffer.of(2), Buffer.from('{}')]) }), 'EVERSION', /version 2, this side speaks 1/);
    throwsCode(() => decodeHello(json(FrameType.CHALLENGE, hello, true)), 'EBADMESSAGE', /expected a HELLO frame, got type 2/);
  });

  test('text: EBADUTF8 for invalid UTF-8 (overlong, lone continuation, truncated sequence)', () => {
    for (const bad of [[0xc0, 0xaf], [0x80], [0xe6, 0x97], [0xed, 0xa0, 0x80]]) {
      throwsCode(() => decodeLaunch({ type: FrameType.LAUNCH, payload: Buffer.from([0x22, ...bad, 0x22]) }), 'EBADUTF8', /not valid UTF-8/);
    }
    throwsCode(() => decodeHello({ type: 1, payload: Buffer.concat([MAGIC, Buffer.of(1), Buffer.of(0xff)]) }), 'EBADUTF8', /UTF-8/);
  });

  test('shape: EBADMESSAGE for bad JSON, non-objects and bad fields', () => {
    throwsCode(() => decodeLaunch({ type: FrameType.LAUNCH, payload: Buffer.from('{"argv":') }), 'EBADMESSAGE', /not JSON/);
    throwsCode(() => decodeLaunch(json(FrameType.LAUNCH, [1])), 'EBADMESSAGE', /not a JSON object/);
    throwsCode(() => decodeLaunch(json(FrameType.LAUNCH, null)), 'EBADMESSAGE', /not a JSON object/);
    throwsCode(() => decodeHello(json(1, { ...hello, op: 'exec' }, true)), 'EBADMESSAGE', /op must be/);
    throwsCode(() => decodeHello(json(1, { ...hello, nonce: 'AAAA' }, true)), 'EBADMESSAGE', /nonce must be 32 bytes/);
    throwsCode(() => decodeHello(json(1, { ...hello, nonce: 'A'.repeat(10_000) }, true)), 'EBADMESSAGE', /nonce must be base64/);
    throwsCode(() => decodeHello(json(1, { ...hello, appId: 5 }, true)), 'EBADMESSAGE', /appId must be a string/);
    throwsCode(() => decodeLaunch(json(FrameType.LAUNCH, { ...launchBody, argv: 'a' })), 'EBADMESSAGE', /argv must be an array/);
    throwsCode(() => decodeLaunch(json(FrameType.LAUNCH, { ...launchBody, argv: ['a', 1] })), 'EBADMESSAGE', /argv\[1\] must be a string/);
    throwsCode(() => decodeLaunch(json(FrameType.LAUNCH, { ...launchBody, env: [] })), 'EBADMESSAGE', /env must be an object/);
    throwsCode(() => decodeLaunch(json(FrameType.LAUNCH, { ...launchBody, env: { 'A=B': 'x' } })), 'EBADMESSAGE', /invalid environment variable name/);
    throwsCode(() => decodeLaunch(json(FrameType.LAUNCH, { ...launchBody, pid: -1 })), 'EBADMESSAGE', /pid must be an integer/);
    throwsCode(() => decodeLaunch(json(FrameType.LAUNCH, { ...launchBody, cwd: undefined })), 'EBADMESSAGE', /cwd must be a string/);
    throwsCode(() => decodeLaunch(json(FrameType.HELLO, launchBody)), 'EBADMESSAGE', /expected a LAUNCH frame/);
    throwsCode(() => decodeAccepted(json(5, { queued: 'yes' })), 'EBADMESSAGE', /queued must be a boolean/);
    throwsCode(() => decodeReply(json(6, { exitCode: 256 })), 'EBADMESSAGE', /exitCode must be an integer from 0 to 255/);
    throwsCode(() => decodeError(json(7, { code: 'EVIL', message: 'x' })), 'EBADMESSAGE', /unknown code/);
  });

  test('sizes: ETOOMANYARGS and ETOOLARGE at exactly one over each limit', () => {
    const many = Array.from({ length: DEFAULT_MAX_ARGS }, () => '');
    assert.equal(decodeLaunch(json(FrameType.LAUNCH, { ...launchBody, argv: many })).argv.length, DEFAULT_MAX_ARGS);
    throwsCode(() => decodeLaunch(json(FrameType.LAUNCH, { ...launchBody, argv: [...many, ''] })), 'ETOOMANYARGS', new RegExp(`${DEFAULT_MAX_ARGS + 1} arguments, the maximum is ${DEFAULT_MAX_ARGS}`));
    const limits = { maxArgs: 10, maxArgBytes: 6 };
    assert.deepEqual(decodeLaunch(json(FrameType.LAUNCH, { ...launchBody, argv: ['日本'] }), limits).argv, ['日本']); // 6 bytes
    throwsCode(() => decodeLaunch(json(FrameType.LAUNCH, { ...launchBody, argv: ['日本x'] }), limits), 'ETOOLARGE', /argv\[0\] is longer than 6 bytes/);
    throwsCode(() => decodeLaunch(json(FrameType.LAUNCH, { ...launchBody, cwd: '/1234567' }), limits), 'ETOOLARGE', /cwd/);
    throwsCode(() => decodeLaunch(json(FrameType.LAUNCH, { ...launchBody, env: { A: '1234567' } }), limits), 'ETOOLARGE', /env\.A/);
    const env = Object.fromEntries(Array.from({ length: MAX_ENV_VARS + 1 }, (_, i) => [`V${i}`, '']));
    throwsCode(() => decodeLaunch(json(FrameType.LAUNCH, { ...launchBody, env })), 'ETOOLARGE', /environment variables/);
    throwsCode(() => decodeHello(json(1, { ...hello, appId: 'a'.repeat(MAX_APP_ID_BYTES + 1) }, true)), 'ETOOLARGE', /appId/);
  });

  test('validateReply: EINVALIDOPTION for a handler bug, kept apart from wire errors', () => {
    throwsCode(() => validateReply(undefined), 'EINVALIDOPTION', /must be an object/);
    throwsCode(() => validateReply({ exitCode: 1.5 }), 'EINVALIDOPTION', /exitCode/);
    throwsCode(() => validateReply({ exitCode: 0, message: 'x'.repeat(9) }, 8), 'ETOOLARGE', /message/);
    assert.deepEqual(validateReply({ exitCode: 255, extra: 1 }), { exitCode: 255 });
  });

  test('an encoded frame is the header plus the payload', () => {
    const f = encodeFrame(FrameType.ERROR, Buffer.from('{}'));
    assert.deepEqual([...f.subarray(0, 5)], [0, 0, 0, 2, 7]);
  });
});
