/**
 * The frame decoder, exhaustively on small inputs: every split point of valid frames (one and
 * two cuts), a multi-byte character split across chunks, and each malformed stream with its
 * code, class and message.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FRAME_HEADER_BYTES, FrameDecoder, FrameType, encodeFrame, type Frame } from '../../src/main/frame.js';
import { throwsWith } from '../helpers/errors.js';

/** Writes `chunk` and reads every frame it completes (the decoder's old push()). */
function push(d: FrameDecoder, chunk: Uint8Array): Frame[] {
  d.write(chunk);
  const frames: Frame[] = [];
  for (let frame = d.read(); frame; frame = d.read()) frames.push(frame);
  return frames;
}

const plain = (frames: Frame[]) => frames.map((f) => [f.type, Buffer.from(f.payload).toString('hex')]);

const launch = encodeFrame(FrameType.SEALED, Buffer.from(JSON.stringify({ argv: ['日本🎉', '', 'a b\nc'], cwd: '/tmp/ü', data: { k: ['ü'] }, env: { LANG: 'é' }, pid: 42 })));
const stream = Buffer.concat([encodeFrame(FrameType.FINISHED, Buffer.alloc(32, 7)), encodeFrame(FrameType.ERROR), launch]);
const expected = push(new FrameDecoder({ maxFrameBytes: 4096 }), stream);

describe('FrameDecoder: every split point', () => {
  test('one push gives the three frames', () => {
    assert.deepEqual(expected.map((f) => f.type), [FrameType.FINISHED, FrameType.ERROR, FrameType.SEALED]);
    assert.equal(expected[1]!.payload.length, 0);
  });

  test('every single cut and every pair of cuts gives the same frames', () => {
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j += i < 40 || j < 40 ? 1 : 7) {
        const d = new FrameDecoder({ maxFrameBytes: 4096 });
        const got = [...push(d, stream.subarray(0, i)), ...push(d, stream.subarray(i, j)), ...push(d, stream.subarray(j))];
        assert.deepEqual(plain(got), plain(expected), `cuts at ${i}, ${j}`);
        assert.equal(d.bufferedBytes, 0);
        d.end();
      }
    }
  });

  test('one byte at a time, and a multi-byte character split across chunks survives', () => {
    const d = new FrameDecoder({ maxFrameBytes: 4096 });
    const got: Frame[] = [];
    for (const byte of stream) got.push(...push(d, Buffer.of(byte)));
    assert.deepEqual(plain(got), plain(expected));
    // The cut inside 🎉 (4 bytes): text is decoded only from the whole frame.
    const at = launch.indexOf(Buffer.from('🎉')) + 2;
    const d2 = new FrameDecoder({ maxFrameBytes: 4096 });
    const frames = [...push(d2, launch.subarray(0, at)), ...push(d2, launch.subarray(at))];
    assert.deepEqual(JSON.parse(frames[0]!.payload.toString('utf8')).argv, ['日本🎉', '', 'a b\nc']);
  });

  test('bufferedBytes counts a partial frame, and empty pushes change nothing', () => {
    const d = new FrameDecoder({ maxFrameBytes: 4096 });
    assert.deepEqual(push(d, launch.subarray(0, 3)), []);
    assert.equal(d.bufferedBytes, 3);
    assert.deepEqual(push(d, new Uint8Array(0)), []);
    assert.equal(d.bufferedBytes, 3);
    assert.equal(push(d, launch.subarray(3)).length, 1);
    assert.equal(d.bufferedBytes, 0);
  });

  test('the limit can change between two frames of one chunk (a peer earns large frames by proving itself)', () => {
    const big = encodeFrame(FrameType.SEALED, Buffer.alloc(2000, 1));
    const d = new FrameDecoder({ maxFrameBytes: 100 });
    d.write(Buffer.concat([encodeFrame(FrameType.FINISHED, Buffer.alloc(32, 7)), big]));
    assert.equal(d.read()?.type, FrameType.FINISHED);
    d.maxFrameBytes = 4096;
    assert.equal(d.read()?.payload.length, 2000);
    // Without the raise, the same chunk stops at the large header.
    const strict = new FrameDecoder({ maxFrameBytes: 100 });
    strict.write(Buffer.concat([encodeFrame(FrameType.FINISHED, Buffer.alloc(32, 7)), big]));
    assert.equal(strict.read()?.type, FrameType.FINISHED);
    throwsWith(() => strict.read(), 'EFRAMETOOLARGE', /2000 bytes announced, the maximum here is 100/);
  });
});

describe('FrameDecoder: malformed streams', () => {
  test('EFRAMETOOLARGE from the header alone, before any body is buffered', () => {
    const d = new FrameDecoder({ maxFrameBytes: 100 });
    const header = Buffer.alloc(FRAME_HEADER_BYTES);
    header.writeUInt32BE(101, 0);
    header[4] = FrameType.HELLO;
    throwsWith(() => push(d, header), 'EFRAMETOOLARGE', /101 bytes announced, the maximum here is 100/);
    assert.equal(d.bufferedBytes, 0, 'nothing kept');
    throwsWith(() => push(d, Buffer.alloc(10)), 'EBADMESSAGE', /used after an error/);
  });

  test('a 4 GiB header behind a valid frame in the same chunk: the valid frame is read first', () => {
    const d = new FrameDecoder({ maxFrameBytes: 1 << 20 });
    d.write(Buffer.concat([encodeFrame(FrameType.ERROR), Buffer.from([0xff, 0xff, 0xff, 0xff, 1]), Buffer.alloc(1000)]));
    assert.equal(d.read()?.type, FrameType.ERROR, 'what came before the bad header is not lost (an ACCEPTED still counts)');
    throwsWith(() => d.read(), 'EFRAMETOOLARGE', /4294967295 bytes announced/);
    assert.equal(d.bufferedBytes, 0);
  });

  test('exactly maxFrameBytes is accepted; zero is too', () => {
    const d = new FrameDecoder({ maxFrameBytes: 100 });
    assert.equal(push(d, encodeFrame(FrameType.HELLO, Buffer.alloc(100, 1)))[0]!.payload.length, 100);
    const zero = new FrameDecoder({ maxFrameBytes: 0 });
    assert.equal(push(zero, encodeFrame(FrameType.ERROR)).length, 1);
    throwsWith(() => push(zero, encodeFrame(FrameType.HELLO, Buffer.of(1))), 'EFRAMETOOLARGE', /1 bytes announced, the maximum here is 0/);
  });

  test('ETRUNCATED on end() inside a header or a body; nothing at a boundary', () => {
    const inHeader = new FrameDecoder({ maxFrameBytes: 4096 });
    inHeader.write(launch.subarray(0, 3));
    throwsWith(() => inHeader.end(), 'ETRUNCATED', /3 bytes pending/);
    const inBody = new FrameDecoder({ maxFrameBytes: 4096 });
    inBody.write(launch.subarray(0, launch.length - 1));
    throwsWith(() => inBody.end(), 'ETRUNCATED', new RegExp(`${launch.length - 1} bytes pending`));
    const clean = new FrameDecoder({ maxFrameBytes: 4096 });
    push(clean, stream);
    clean.end();
    new FrameDecoder({ maxFrameBytes: 1 }).end();
  });

  test('a frame does not pin the chunk it came from', () => {
    // The chunk must own its memory: one smaller than half of Buffer.poolSize (8 KiB in Node 20,
    // 22 and 24.11, 64 KiB in 24.18 and 26) is a slice of Node's shared pool, where the frame's copy may
    // land too, and the two would share an ArrayBuffer without the frame pinning anything.
    const big = Buffer.concat([encodeFrame(FrameType.HELLO, Buffer.from('payload')), Buffer.alloc(Buffer.poolSize)]);
    assert.equal(big.buffer.byteLength, big.length, 'the chunk has an ArrayBuffer of its own');
    const [frame] = push(new FrameDecoder({ maxFrameBytes: 1 << 20 }), big);
    assert.notEqual(frame!.payload.buffer, big.buffer);
    big.fill(0);
    assert.equal(Buffer.from(frame!.payload).toString(), 'payload', 'the frame is a copy, not a view');
  });
});
