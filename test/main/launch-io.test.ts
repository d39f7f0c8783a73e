/**
 * LaunchIO's credit on its own, step by step (the holder's side of a launch's streams): every
 * byte the app reads makes room the launcher hears of, whatever the size of the app's reads, and
 * output never goes beyond the window the launcher granted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SealedType } from '../../src/main/frame.js';
import { LaunchIO, STREAM_WINDOW } from '../../src/main/launch-io.js';

function harness(options: { input: boolean; outputWindow?: number }) {
  const windows: number[] = [];
  const output: Buffer[] = [];
  const failures: unknown[] = [];
  const io = new LaunchIO({
    outputWindow: options.outputWindow ?? 0,
    input: options.input,
    maxPayloadBytes: 1 << 20,
    maxBufferedOutput: 1 << 20,
    send: (type, payload) => {
      if (type === SealedType.WINDOW) windows.push(Buffer.from(payload).readUInt32BE(0));
      else if (type === SealedType.OUTPUT) output.push(Buffer.from(payload));
    },
    fail: (error) => failures.push(error),
  });
  return { io, windows, output, failures };
}

test('stdin read in pieces of any size: the launcher is always granted room again', async () => {
  for (const piece of [1, 1000, 20_000, 40_000, STREAM_WINDOW, 100_000]) {
    const { io, windows, failures } = harness({ input: true });
    io.start();
    const total = 300 * 1024;
    let granted = 0;
    let sent = 0;
    let read = 0;
    let ended = false;
    // The launcher sends what it is granted, 16 KiB at a time; the app reads `piece` at a time.
    for (let rounds = 0; read < total && rounds < 2 * total; rounds++) {
      granted += windows.splice(0).reduce((a, b) => a + b, 0);
      while (granted > 0 && sent < total) {
        const n = Math.min(granted, 16 * 1024, total - sent);
        io.input(Buffer.alloc(n, 0x61));
        granted -= n;
        sent += n;
      }
      if (sent === total && !ended) {
        io.input(Buffer.alloc(0));
        ended = true;
      }
      const chunk = io.stdin.read(Math.min(piece, io.stdin.readableLength || piece)) as Buffer | null;
      if (chunk) read += chunk.length;
      await Promise.resolve(); // what a real reader does between reads: the room is counted then
      if (!chunk && windows.length === 0 && granted === 0 && sent < total) assert.fail(`stuck after ${read} of ${total} bytes read ${piece} at a time`);
    }
    assert.equal(read, total, `pieces of ${piece}`);
    assert.deepEqual(failures, []);
  }
});

test('input beyond the granted room is refused', () => {
  const { io, failures } = harness({ input: true });
  io.start();
  io.input(Buffer.alloc(STREAM_WINDOW + 1));
  assert.equal(failures.length, 1);
  assert.match(String((failures[0] as Error).message), /beyond the 65536 it was granted/);
});

test('output goes out only within the window, in order, and the rest when room comes', () => {
  const { io, output } = harness({ input: false, outputWindow: 10 });
  io.stdout.write('0123456789abcdef');
  io.stderr.write('XY');
  assert.deepEqual(output.map((o) => [o[0], o.subarray(1).toString()]), [[1, '0123456789']]);
  io.window(100);
  assert.deepEqual(output.map((o) => [o[0], o.subarray(1).toString()]), [[1, '0123456789'], [1, 'abcdef'], [2, 'XY']]);
  let flushed = false;
  io.whenFlushed(() => (flushed = true));
  assert.equal(flushed, true);
});
