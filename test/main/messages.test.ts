/**
 * Every decoder and validator of messages.ts: round trips, and each malformed message with its
 * code, class and message.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FrameType, SealedType, encodeFrame, type Frame } from '../../src/main/frame.js';
import {
  acceptedPayload,
  challengeBody,
  decodeAccepted,
  decodeChallenge,
  decodeError,
  decodeFinished,
  decodeHello,
  decodeLaunch,
  decodeReleased,
  decodeReply,
  encodeChallenge,
  encodeClearError,
  encodeFinished,
  encodeHello,
  errorPayload,
  launchPayload,
  RELEASED_PAYLOAD,
  replyPayload,
  validateReply,
  Op,
} from '../../src/main/messages.js';
import { DEFAULT_MAX_ARG_BYTES, DEFAULT_MAX_ARGS, MAGIC, MAX_APP_ID_BYTES, MAX_ENV_VARS, PROTOCOL_VERSION } from '../../src/main/constants.js';
import { opened, openedJson } from '../helpers/sealed.js';
import { throwsWith } from '../helpers/errors.js';

const N = Buffer.alloc(32, 9);
const P = Buffer.alloc(32, 3);
const LIMITS = { maxArgs: DEFAULT_MAX_ARGS, maxArgBytes: DEFAULT_MAX_ARG_BYTES };

function frame(bytes: Buffer): Frame {
  return { type: bytes[4] as number, header: bytes.subarray(0, 5), payload: bytes.subarray(5) };
}
/** A clear frame whose payload is magic, version (default: ours) and `value` as JSON. */
function first(type: number, value: unknown, version = PROTOCOL_VERSION): Frame {
  return frame(encodeFrame(type as 1, Buffer.concat([MAGIC, Buffer.of(version), Buffer.from(JSON.stringify(value))])));
}
const launchBody = { argv: ['a'], cwd: '/', env: {}, pid: 1, maxFrameBytes: 4096, output: 0, input: false };
const launch = (value: unknown, limits = LIMITS) => decodeLaunch(openedJson(SealedType.LAUNCH, value), limits);

describe('messages: round trips', () => {
  test('in clear: hello, challenge (with and without a proof), finished, error', () => {
    assert.deepEqual(decodeHello(frame(encodeHello({ op: Op.WAIT, appId: 'ü.app', nonce: N }))), { op: 'wait', appId: 'ü.app', nonce: N });
    const info = { appId: 'x', nonce: N, pid: 7, startedAt: 123, version: '0.2.0' };
    const body = challengeBody(info);
    assert.deepEqual(decodeChallenge(frame(encodeChallenge(body, undefined))), { ...info, body, proof: undefined });
    assert.deepEqual(decodeChallenge(frame(encodeChallenge(body, P))), { ...info, body, proof: P });
    assert.deepEqual(decodeFinished(frame(encodeFinished(P))), P);
    assert.deepEqual(decodeError(frame(encodeClearError('EAPPID', 'no'))), { code: 'EAPPID', message: 'no' });
  });

  test('sealed: launch, accepted, reply, error, released', () => {
    const l = { argv: ['', ' x ', '\ud800', '🎉'], cwd: '/', data: { a: [1, null] }, env: { A: 'b' }, pid: 2, maxFrameBytes: 4096, output: 65536, input: true };
    assert.deepEqual(decodeLaunch(opened(SealedType.LAUNCH, launchPayload(l)), LIMITS), l);
    assert.equal(decodeLaunch(opened(SealedType.LAUNCH, launchPayload({ ...l, data: undefined })), LIMITS).data, undefined);
    assert.deepEqual(decodeAccepted(opened(SealedType.ACCEPTED, acceptedPayload(true))), { queued: true });
    const reply = { exitCode: 3, message: 'm', data: [1] };
    assert.deepEqual(decodeReply(opened(SealedType.REPLY, replyPayload(reply, 64, 1024)), 64), reply);
    assert.deepEqual(decodeError(opened(SealedType.ERROR, errorPayload('EHANDLER', 'boom'))), { code: 'EHANDLER', message: 'boom' });
    decodeReleased(opened(SealedType.RELEASED, RELEASED_PAYLOAD));
  });

  test('an error message longer than 4096 characters is cut, and still decodes', () => {
    const { message } = decodeError(opened(SealedType.ERROR, errorPayload('EHANDLER', 'x'.repeat(100_000))));
    assert.equal(message.length, 4096);
    assert.ok(message.endsWith('…'));
  });
});

describe('messages: each malformed message has its code', () => {
  const hello = { op: 'launch', appId: 'a', nonce: N.toString('base64') };

  test('preamble: EBADMAGIC, EVERSION (protocol 1 told to update), checked before the frame type', () => {
    throwsWith(() => decodeHello({ ...frame(encodeFrame(1, Buffer.from('LKS'))) }), 'EBADMAGIC', /magic/);
    throwsWith(() => decodeHello(frame(encodeFrame(1, Buffer.from('XKSK\x02{}')))), 'EBADMAGIC', /magic/);
    throwsWith(() => decodeHello(frame(encodeFrame(99 as 1, Buffer.from('GET / HTTP/1.1')))), 'EBADMAGIC', /magic/);
    throwsWith(() => decodeHello(first(FrameType.HELLO, hello, 1)), 'EVERSION', /protocol 1, this side speaks 2 \(the older side must be updated/);
    throwsWith(() => decodeChallenge(first(FrameType.CHALLENGE, {}, 3)), 'EVERSION', /protocol 3, this side speaks 2$/);
    throwsWith(() => decodeHello(first(FrameType.CHALLENGE, hello)), 'EBADMESSAGE', /expected a HELLO message, got type 2/);
  });

  test('text: EBADUTF8 for invalid UTF-8 (overlong, lone continuation, truncated sequence)', () => {
    for (const bad of [[0xc0, 0xaf], [0x80], [0xe6, 0x97], [0xed, 0xa0, 0x80]]) {
      throwsWith(() => decodeLaunch(opened(SealedType.LAUNCH, Buffer.from([0x22, ...bad, 0x22])), LIMITS), 'EBADUTF8', /not valid UTF-8/);
    }
    throwsWith(() => decodeHello(frame(encodeFrame(1, Buffer.concat([MAGIC, Buffer.of(PROTOCOL_VERSION), Buffer.of(0xff)])))), 'EBADUTF8', /UTF-8/);
  });

  test('challenge: flags, proof length', () => {
    const body = challengeBody({ appId: 'x', nonce: N, pid: 7, startedAt: 123, version: '0.2.0' });
    const pre = Buffer.concat([MAGIC, Buffer.of(PROTOCOL_VERSION)]);
    throwsWith(() => decodeChallenge(frame(encodeFrame(FrameType.CHALLENGE, Buffer.concat([pre, Buffer.of(2), body])))), 'EBADMESSAGE', /flags/);
    throwsWith(() => decodeChallenge(frame(encodeFrame(FrameType.CHALLENGE, Buffer.concat([pre, Buffer.of(1), P.subarray(0, 10)])))), 'EBADMESSAGE', /proof must be 32 bytes/);
    throwsWith(() => decodeFinished(frame(encodeFinished(P.subarray(1)))), 'EBADMESSAGE', /FINISHED must carry 32 bytes/);
  });

  test('shape: EBADMESSAGE for bad JSON, non-objects and bad fields', () => {
    throwsWith(() => decodeLaunch(opened(SealedType.LAUNCH, Buffer.from('{"argv":')), LIMITS), 'EBADMESSAGE', /not JSON/);
    throwsWith(() => launch([1]), 'EBADMESSAGE', /not a JSON object/);
    throwsWith(() => launch(null), 'EBADMESSAGE', /not a JSON object/);
    throwsWith(() => decodeHello(first(1, { ...hello, op: 'exec' })), 'EBADMESSAGE', /op must be/);
    throwsWith(() => decodeHello(first(1, { ...hello, nonce: 'AAAA' })), 'EBADMESSAGE', /nonce must be 32 bytes/);
    throwsWith(() => decodeHello(first(1, { ...hello, nonce: 'A'.repeat(10_000) })), 'EBADMESSAGE', /nonce must be base64/);
    throwsWith(() => decodeHello(first(1, { ...hello, appId: 5 })), 'EBADMESSAGE', /appId must be a string/);
    throwsWith(() => launch({ ...launchBody, argv: 'a' }), 'EBADMESSAGE', /argv must be an array/);
    throwsWith(() => launch({ ...launchBody, argv: ['a', 1] }), 'EBADMESSAGE', /argv\[1\] must be a string/);
    throwsWith(() => launch({ ...launchBody, env: [] }), 'EBADMESSAGE', /env must be an object/);
    throwsWith(() => launch({ ...launchBody, env: { 'A=B': 'x' } }), 'EBADMESSAGE', /invalid environment variable name/);
    throwsWith(() => launch({ ...launchBody, pid: -1 }), 'EBADMESSAGE', /pid must be an integer/);
    throwsWith(() => launch({ ...launchBody, maxFrameBytes: 'big' }), 'EBADMESSAGE', /maxFrameBytes must be an integer/);
    throwsWith(() => launch({ ...launchBody, cwd: undefined }), 'EBADMESSAGE', /cwd must be a string/);
    throwsWith(() => decodeLaunch(openedJson(SealedType.REPLY, launchBody), LIMITS), 'EBADMESSAGE', /expected a LAUNCH message/);
    throwsWith(() => decodeAccepted(openedJson(SealedType.ACCEPTED, { queued: 'yes' })), 'EBADMESSAGE', /queued must be a boolean/);
    throwsWith(() => decodeReply(openedJson(SealedType.REPLY, { exitCode: 256 }), 64), 'EBADMESSAGE', /exitCode must be an integer from 0 to 255/);
    throwsWith(() => decodeReply(openedJson(SealedType.ACCEPTED, { exitCode: 0 }), 64), 'EBADMESSAGE', /expected a REPLY message/);
    throwsWith(() => decodeReleased(openedJson(SealedType.REPLY, {})), 'EBADMESSAGE', /expected a RELEASED message/);
    throwsWith(() => decodeError(openedJson(SealedType.ERROR, { code: 'EVIL', message: 'x' })), 'EBADMESSAGE', /unknown code/);
  });

  test('sizes: ETOOMANYARGS and ETOOLARGE at exactly one over each limit', () => {
    const many = Array.from({ length: DEFAULT_MAX_ARGS }, () => '');
    assert.equal(launch({ ...launchBody, argv: many }).argv.length, DEFAULT_MAX_ARGS);
    throwsWith(() => launch({ ...launchBody, argv: [...many, ''] }), 'ETOOMANYARGS', new RegExp(`${DEFAULT_MAX_ARGS + 1} arguments, the maximum is ${DEFAULT_MAX_ARGS}`));
    const limits = { maxArgs: 10, maxArgBytes: 6 };
    assert.deepEqual(launch({ ...launchBody, argv: ['日本'] }, limits).argv, ['日本']); // 6 bytes
    throwsWith(() => launch({ ...launchBody, argv: ['日本x'] }, limits), 'ETOOLARGE', /argv\[0\] is longer than 6 bytes/);
    throwsWith(() => launch({ ...launchBody, cwd: '/1234567' }, limits), 'ETOOLARGE', /cwd/);
    throwsWith(() => launch({ ...launchBody, env: { A: '1234567' } }, limits), 'ETOOLARGE', /env\.A/);
    const env = Object.fromEntries(Array.from({ length: MAX_ENV_VARS + 1 }, (_, i) => [`V${i}`, '']));
    throwsWith(() => launch({ ...launchBody, env }), 'ETOOLARGE', /environment variables/);
    throwsWith(() => decodeHello(first(1, { ...hello, appId: 'a'.repeat(MAX_APP_ID_BYTES + 1) })), 'ETOOLARGE', /appId/);
  });

  test('validateReply: EINVALIDOPTION for a handler bug, kept apart from wire errors', () => {
    throwsWith(() => validateReply(undefined, 64), 'EINVALIDOPTION', /must be an object/);
    throwsWith(() => validateReply({ exitCode: 1.5 }, 64), 'EINVALIDOPTION', /exitCode/);
    throwsWith(() => validateReply({ exitCode: 0, message: 'x'.repeat(9) }, 8), 'ETOOLARGE', /message/);
    assert.deepEqual(validateReply({ exitCode: 255, extra: 1 }, 64), { exitCode: 255 });
  });

  test('replyPayload: what cannot be sent is refused before anything is sent', () => {
    const cycle: Record<string, unknown> = { exitCode: 0 };
    cycle['data'] = cycle;
    throwsWith(() => replyPayload(cycle, 64, 1 << 20), 'EINVALIDOPTION', /cannot be encoded as JSON/);
    throwsWith(() => replyPayload({ exitCode: 0, data: 10n }, 64, 1 << 20), 'EINVALIDOPTION', /cannot be encoded as JSON/);
    throwsWith(() => replyPayload({ exitCode: 0, data: 'x'.repeat(100) }, 64, 100), 'ETOOLARGE', /encodes to 124 bytes, the launcher accepts at most 100/);
    assert.equal(replyPayload({ exitCode: 0, data: 'x'.repeat(76) }, 64, 100).length, 100);
  });

  test('an encoded frame is the header plus the payload', () => {
    const f = encodeFrame(FrameType.ERROR, Buffer.from('{}'));
    assert.deepEqual([...f.subarray(0, 5)], [0, 0, 0, 2, 7]);
  });
});
