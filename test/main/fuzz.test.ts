/**
 * Property tests (fast-check) of the pure protocol code: the frame decoder and every decoder and
 * validator of messages.ts, fed generated input. Whatever arrives, nothing but a LockSocketError
 * may escape, the decoder never holds more than one frame's worth, and what is encoded decodes
 * to the same thing, however the bytes are split.
 *
 * FC_SEED=n replays a run (the seed is printed); FC_RUNS=n changes the runs per property.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FRAME_HEADER_BYTES, FrameDecoder, SealedType, encodeFrame, type Frame, type FrameTypeValue } from '../../src/main/frame.js';
import {
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
  encodeHello,
  launchPayload,
  replyPayload,
  validateReply,
  Op,
} from '../../src/main/messages.js';
import { opened } from '../helpers/sealed.js';
import { MAGIC, PROTOCOL_VERSION } from '../../src/main/constants.js';
import { LockSocketError } from '../../src/main/errors.js';
import type { JsonValue } from '../../src/main/types.js';

const seed = Number(process.env['FC_SEED'] ?? Date.now() % 2 ** 31);
const numRuns = Number(process.env['FC_RUNS'] ?? 10_000);
console.log(`fast-check seed ${seed} (replay with FC_SEED=${seed}), ${numRuns} runs per property`);
const params = { seed, numRuns };

/** Runs fn; any throw other than a LockSocketError fails the property. */
function onlyOurErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof LockSocketError)) throw new Error(`escaped: ${String(error)}`, { cause: error });
    assert.equal(typeof error.code, 'string');
  }
}

const bytes = (max = 64) => fc.uint8Array({ maxLength: max });
const frameType = fc.integer({ min: 0, max: 255 });
const preamble = Buffer.concat([MAGIC, Buffer.from([PROTOCOL_VERSION])]);

/** Writes each chunk and reads every frame it completes. */
function push(decoder: FrameDecoder, chunk: Uint8Array): Frame[] {
  decoder.write(chunk);
  const frames: Frame[] = [];
  for (let frame = decoder.read(); frame; frame = decoder.read()) frames.push(frame);
  return frames;
}

/** Splits `data` at the given cut points (sorted, deduplicated, clamped). */
function split(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    parts.push(data.subarray(last, p));
    last = p;
  }
  parts.push(data.subarray(last));
  return parts;
}

/** Payloads that get past the first checks more often than random bytes would. */
const payload = fc.oneof(
  bytes(),
  fc.json().map((j) => Buffer.from(j)),
  fc.json().map((j) => Buffer.concat([preamble, Buffer.from(j)])),
  fc.tuple(fc.uint8Array({ maxLength: 6 }), fc.json()).map(([p, j]) => Buffer.concat([Buffer.from(p), Buffer.from(j)])),
  fc
    .record({ op: fc.oneof(fc.constantFrom('launch', 'wait', 'status'), fc.anything()), appId: fc.anything(), nonce: fc.anything(), proof: fc.anything(), argv: fc.anything(), env: fc.anything(), cwd: fc.anything(), pid: fc.anything(), exitCode: fc.anything(), code: fc.anything(), message: fc.anything(), queued: fc.anything() }, { requiredKeys: [] })
    .map((o) => {
      const text = JSON.stringify(o) ?? 'null';
      return Buffer.concat([preamble, Buffer.from(text)]);
    }),
);

describe('fuzz: FrameDecoder', () => {
  test('arbitrary bytes in arbitrary chunks: only LockSocketError, never more buffered than one frame', () => {
    fc.assert(
      fc.property(fc.array(bytes(40), { maxLength: 8 }), fc.integer({ min: 0, max: 64 }), (chunks, max) => {
        const decoder = new FrameDecoder({ maxFrameBytes: max });
        try {
          for (const chunk of chunks) {
            for (const frame of push(decoder, chunk)) assert.ok(frame.payload.length <= max);
            assert.ok(decoder.bufferedBytes < FRAME_HEADER_BYTES + max + 1);
          }
          decoder.end();
        } catch (error) {
          if (!(error instanceof LockSocketError)) throw error;
        }
      }),
      params,
    );
  });

  test('any frames, split anywhere, decode to the same frames as one push', () => {
    const frames = fc.array(fc.record({ type: frameType, payload: bytes(48) }), { maxLength: 6 });
    fc.assert(
      fc.property(frames, fc.array(fc.nat(), { maxLength: 10 }), (list, cuts) => {
        const stream = Buffer.concat(list.map((f) => encodeFrame(f.type as FrameTypeValue, f.payload)));
        const whole = push(new FrameDecoder({ maxFrameBytes: 48 }), stream);
        const decoder = new FrameDecoder({ maxFrameBytes: 48 });
        const pieces: Frame[] = [];
        for (const part of split(stream, cuts)) pieces.push(...push(decoder, part));
        decoder.end();
        const plain = (fs: Frame[]) => fs.map((f) => ({ type: f.type, payload: Buffer.from(f.payload).toString('hex') }));
        assert.deepEqual(plain(pieces), plain(whole));
        assert.deepEqual(plain(whole), list.map((f) => ({ type: f.type, payload: Buffer.from(f.payload).toString('hex') })));
        assert.equal(decoder.bufferedBytes, 0);
      }),
      params,
    );
  });
});

describe('fuzz: message decoders and validators', () => {
  test('every decoder on arbitrary frames and sealed messages: only LockSocketError', () => {
    const clear = [decodeHello, decodeChallenge, decodeFinished, decodeError];
    const sealed = [
      (t: number, p: Uint8Array) => decodeLaunch(opened(t, p), { maxArgs: 4, maxArgBytes: 8 }),
      (t: number, p: Uint8Array) => decodeLaunch(opened(t, p), { maxArgs: 8192, maxArgBytes: 1 << 17 }),
      (t: number, p: Uint8Array) => decodeAccepted(opened(t, p)),
      (t: number, p: Uint8Array) => decodeReply(opened(t, p), 64),
      (t: number, p: Uint8Array) => decodeReleased(opened(t, p)),
      (t: number, p: Uint8Array) => decodeError(opened(t, p)),
    ];
    fc.assert(
      fc.property(frameType, payload, (type, p) => {
        const bytes = Buffer.from(p);
        const header = Buffer.alloc(5);
        for (const decode of clear) onlyOurErrors(() => decode({ type, header, payload: bytes }));
        for (const decode of sealed) onlyOurErrors(() => decode(type, bytes));
      }),
      { ...params, numRuns: Math.ceil(numRuns / 4) },
    );
  });

  test('validateReply on any value: only LockSocketError, and what passes is a valid reply', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ exitCode: fc.oneof(fc.integer(), fc.double(), fc.anything()), message: fc.oneof(fc.string(), fc.anything()), data: fc.jsonValue() }, { requiredKeys: [] })), (value) => {
        onlyOurErrors(() => {
          const reply = validateReply(value, 64);
          assert.ok(Number.isInteger(reply.exitCode) && reply.exitCode >= 0 && reply.exitCode <= 255);
          if (reply.message !== undefined) assert.ok(Buffer.byteLength(reply.message) <= 64);
        });
      }),
      params,
    );
  });

  test('round trips: HELLO, CHALLENGE, LAUNCH (lone surrogates included), REPLY', () => {
    const nonce = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b));
    const str = fc.string({ unit: 'binary', maxLength: 20 });
    const envName = fc.string({ minLength: 1, maxLength: 10 }).filter((n) => !n.includes('=') && !n.includes('\0') && n !== '__proto__');
    fc.assert(
      fc.property(
        fc.record({
          op: fc.constantFrom(Op.LAUNCH, Op.WAIT, Op.STATUS),
          appId: fc.string({ maxLength: 40 }),
          nonce,
          proof: fc.option(nonce, { nil: undefined }),
          pid: fc.nat(),
          startedAt: fc.nat(),
          argv: fc.array(str, { maxLength: 8 }),
          cwd: str,
          data: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
          env: fc.dictionary(envName, str, { maxKeys: 4 }),
          exitCode: fc.integer({ min: 0, max: 255 }),
          message: fc.option(str, { nil: undefined }),
        }),
        (m) => {
          const body = challengeBody({ appId: m.appId, nonce: m.nonce, pid: m.pid, startedAt: m.startedAt, version: '0.2.0' });
          const [hello, challenge] = push(
            new FrameDecoder({ maxFrameBytes: 1 << 20 }),
            Buffer.concat([encodeHello({ op: m.op, appId: m.appId, nonce: m.nonce }), encodeChallenge(body, m.proof)]),
          ) as [Frame, Frame];
          assert.deepEqual(decodeHello(hello), { op: m.op, appId: m.appId, nonce: m.nonce });
          assert.deepEqual(decodeChallenge(challenge), { appId: m.appId, nonce: m.nonce, proof: m.proof, pid: m.pid, startedAt: m.startedAt, version: '0.2.0', body });
          const launch = launchPayload({ argv: m.argv, cwd: m.cwd, data: m.data as JsonValue | undefined, env: m.env, pid: m.pid, maxFrameBytes: 1 << 20, output: 65536, input: false });
          const back = decodeLaunch(opened(SealedType.LAUNCH, launch), { maxArgs: 8192, maxArgBytes: 1 << 17 });
          assert.deepEqual(back.argv, m.argv);
          assert.equal(back.cwd, m.cwd);
          assert.deepEqual(back.env, { ...m.env });
          // JSON has no -0: compare data as JSON text.
          assert.equal(JSON.stringify(back.data), JSON.stringify(m.data));
          const reply = m.message === undefined ? { exitCode: m.exitCode } : { exitCode: m.exitCode, message: m.message };
          assert.deepEqual(decodeReply(opened(SealedType.REPLY, replyPayload(reply, 1 << 17, 1 << 20)), 1 << 17), reply);
        },
      ),
      params,
    );
  });
});
