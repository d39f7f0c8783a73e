// seal.ts: what one side seals, only the other side opens — once, in order, unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { FrameDecoder, FrameType, SealedType, encodeFrame, type Frame } from '../../src/main/frame.js';
import { Opened, Opener, SEAL_OVERHEAD, Sealer } from '../../src/main/seal.js';
import { throwsWith } from '../helpers/errors.js';

function frameOf(bytes: Buffer): Frame {
  const d = new FrameDecoder({ maxFrameBytes: 1 << 20 });
  d.write(bytes);
  const frame = d.read();
  assert.ok(frame && d.bufferedBytes === 0, 'exactly one frame');
  return frame;
}

function failsAuth(fn: () => unknown): void {
  throwsWith(fn, 'EAUTH');
}

const key = randomBytes(32);

test('a sealed frame opens to its type and payload; an observer sees neither', () => {
  const sealer = new Sealer(key);
  const opener = new Opener(key);
  const payload = Buffer.from('{"argv":["--password=hunter2"]}');
  const bytes = sealer.seal(SealedType.LAUNCH, payload);
  assert.equal(bytes.length, 5 + SEAL_OVERHEAD + payload.length);
  assert.equal(bytes[4], FrameType.SEALED);
  assert.equal(bytes.includes(Buffer.from('hunter2')), false);
  const opened = opener.open(frameOf(bytes));
  assert.equal(opened.type, SealedType.LAUNCH);
  assert.deepEqual(opened.payload, payload);
  // Empty payloads and several in a row.
  for (let i = 0; i < 3; i++) assert.equal(opener.open(frameOf(sealer.seal(SealedType.RELEASED, Buffer.alloc(0)))).payload.length, 0);
});

test('one flipped bit anywhere (header, type, body, tag) fails with EAUTH', () => {
  const bytes = new Sealer(key).seal(SealedType.REPLY, Buffer.from('{"exitCode":0}'));
  for (let at = 0; at < bytes.length; at++) {
    if (at < 4) continue; // a changed length is a different framing: the decoder, not the tag, sees it
    const bad = Buffer.from(bytes);
    bad[at] = (bad[at] as number) ^ 0x01;
    failsAuth(() => new Opener(key).open(frameOf(bad)));
  }
  // The length field too: one byte less, the rest re-framed.
  const shorter = Buffer.from(bytes.subarray(0, bytes.length - 1));
  shorter.writeUInt32BE(shorter.length - 5, 0);
  failsAuth(() => new Opener(key).open(frameOf(shorter)));
});

test('replayed, reordered, dropped: each fails, because the opener expects exactly the next number', () => {
  const sealer = new Sealer(key);
  const [a, b, c] = [0, 1, 2].map((i) => frameOf(sealer.seal(SealedType.ACCEPTED, Buffer.from(String(i))))) as [Frame, Frame, Frame];
  const replay = new Opener(key);
  replay.open(a);
  failsAuth(() => replay.open(a));
  failsAuth(() => new Opener(key).open(b)); // reordered: b before a
  const dropped = new Opener(key);
  dropped.open(a);
  failsAuth(() => dropped.open(c)); // b dropped
});

test('the other direction, or another connection, cannot open it', () => {
  const bytes = frameOf(new Sealer(key).seal(SealedType.REPLY, Buffer.from('{}')));
  failsAuth(() => new Opener(randomBytes(32)).open(bytes));
  failsAuth(() => new Opener(key).open(frameOf(encodeFrame(FrameType.ERROR, Buffer.from('{"code":"EHANDLER","message":"forged"}')))));
  failsAuth(() => new Opener(key).open(frameOf(encodeFrame(FrameType.SEALED, Buffer.alloc(SEAL_OVERHEAD - 1)))));
});

test('an Opened message comes only from Opener.open()', () => {
  assert.throws(() => new Opened(Symbol('opening'), SealedType.LAUNCH, Buffer.from('{}')), TypeError);
});
