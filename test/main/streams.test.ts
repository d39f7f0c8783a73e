/**
 * forwardLaunch and a launch's standard streams (src/main/{forward,launch-io,launcher-io}.ts):
 * the holder's output reaches the launcher in order and before the reply, stdin goes the other
 * way, both inside the flow-control windows, and nothing grows without bound when one side is
 * slow. Real sockets; the killed-mid-stream cases run real processes.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable, Writable } from 'node:stream';
import { portsFor } from '../helpers/ports.js';
import { privateDir } from '../helpers/dirs.js';
import { Child, fixture, killAll } from '../helpers/child.js';
import { bindOnly } from '../helpers/bind-only.js';
import {
  ErrorCode,
  forwardLaunch,
  isHeld,
  requestSingleInstance,
  type Launch,
  type ReplyFunction,
  type SingleInstanceOptions,
} from '../../src/main/index.js';
import { rejectsWith } from '../helpers/errors.js';

const { port } = portsFor(import.meta.url);
const secretDir = privateDir('lock-socket-streams-');
after(() => killAll());

const base = (i: number, extra: Partial<SingleInstanceOptions> = {}): SingleInstanceOptions => ({
  appId: 'com.example.streams',
  port: port(i),
  addr: '127.0.0.1',
  secretDir,
  argv: ['cli'],
  ...extra,
});

/** A Writable that records what it takes, tagged, into `log`; `delay` ms per write. */
function recorder(log: string[], tag: string, delay = 0): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      log.push(`${tag}:${chunk.toString()}`);
      if (delay) setTimeout(done, delay);
      else done();
    },
  });
}

async function holder(i: number, handle: (launch: Launch, reply: ReplyFunction) => unknown, extra: Partial<SingleInstanceOptions> = {}) {
  const instance = await requestSingleInstance(base(i, extra));
  assert.equal(instance.isPrimary, true);
  instance.on('second-instance', handle);
  return instance;
}

describe('forwardLaunch', () => {
  test('no instance runs: undefined, and the lock is still free', async () => {
    assert.equal(await forwardLaunch(base(0)), undefined);
    assert.equal(await isHeld(port(0), '127.0.0.1'), false);
  });

  test('an instance runs: its reply, and the launch it received is byte-exact', async () => {
    await using h = await holder(1, (launch, reply) => reply({ exitCode: 7, message: 'ran', data: launch.argv }));
    const reply = await forwardLaunch(base(1, { argv: ['cli', '--list-extensions', 'ü ✓', ''] }));
    assert.deepEqual(reply, { exitCode: 7, message: 'ran', data: ['cli', '--list-extensions', 'ü ✓', ''] });
    assert.equal(h.isPrimary, true);
  });

  test('a bind-only holder: ENOLISTENER; waitForRelease is refused (it would have to take the lock)', async () => {
    const perl = await bindOnly('127.0.0.1', port(2));
    try {
      await rejectsWith(forwardLaunch(base(2)), ErrorCode.ENOLISTENER);
    } finally {
      await perl.release();
    }
    await rejectsWith(forwardLaunch(base(2, { waitForRelease: true })), ErrorCode.EINVALIDOPTION);
  });
});

describe("the holder's output", () => {
  test('stdout and stderr arrive in the order written, all of it before the reply resolves', async () => {
    await using _h = await holder(3, (launch, reply) => {
      launch.stdout.write('one\n');
      launch.stderr.write('two\n');
      launch.stdout.write('three\n');
      launch.stderr.write('four\n');
      reply({ exitCode: 0 });
    });
    const log: string[] = [];
    const reply = await forwardLaunch(base(3, { stdout: recorder(log, 'out'), stderr: recorder(log, 'err') }));
    log.push('reply');
    assert.equal(reply?.exitCode, 0);
    assert.deepEqual(log, ['out:one\n', 'err:two\n', 'out:three\n', 'err:four\n', 'reply']);
  });

  test('a slow terminal: the holder sees backpressure, every byte arrives, in order', { timeout: 60_000 }, async () => {
    let sawBackpressure = false;
    const total = 1024 * 1024;
    await using _h = await holder(4, async (launch, reply) => {
      for (let i = 0; i < total / 1024; i++) {
        if (!launch.stdout.write(Buffer.alloc(1024, 0x61 + (i % 26)))) {
          sawBackpressure = true;
          await new Promise((resolve) => launch.stdout.once('drain', resolve));
        }
      }
      reply({ exitCode: 0 });
    });
    let received = 0;
    let ordered = true;
    let next = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, done) {
        for (const byte of chunk) {
          if (byte !== 0x61 + (Math.floor(next / 1024) % 26)) ordered = false;
          next++;
        }
        received += chunk.length;
        setTimeout(done, 1);
      },
    });
    const reply = await forwardLaunch(base(4, { stdout: slow }));
    assert.equal(reply?.exitCode, 0);
    assert.equal(received, total);
    assert.ok(ordered, 'bytes in order');
    assert.ok(sawBackpressure, 'the holder was slowed down, not made to buffer');
  });

  test('an app that ignores backpressure fails its launch with ETOOLARGE, and the holder keeps serving', { timeout: 60_000 }, async () => {
    const errors: unknown[] = [];
    await using h = await holder(5, (launch, reply) => {
      if (launch.argv[1] === 'flood') {
        for (let i = 0; i < 64; i++) launch.stdout.write(Buffer.alloc(64 * 1024, 0x62)); // 4 MiB at once, no waiting
        return;
      }
      reply({ exitCode: 0, message: 'still here' });
    });
    h.on('error', (e) => errors.push(e));
    // The launcher's terminal never takes anything: the holder may send one window, no more.
    const stuck = new Writable({ write() {} });
    const error = await rejectsWith(forwardLaunch(base(5, { argv: ['cli', 'flood'], stdout: stuck })), ErrorCode.ETOOLARGE);
    assert.match(error.message, /output waiting for the launcher's terminal passed/);
    assert.equal((await forwardLaunch(base(5)))?.message, 'still here');
  });

  test('writes after the reply are not sent, and do not crash the holder', async () => {
    await using _h = await holder(6, (launch, reply) => {
      launch.stdout.write('before\n');
      reply({ exitCode: 0 });
      setImmediate(() => launch.stdout.write('after\n', () => {}));
    });
    const log: string[] = [];
    await forwardLaunch(base(6, { stdout: recorder(log, 'out') }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(log, ['out:before\n']);
    assert.equal((await forwardLaunch(base(6)))?.exitCode, 0);
  });
});

describe("the launcher's stdin", () => {
  test('piped to the holder, whole and in order, and the holder answers from it', { timeout: 60_000 }, async () => {
    await using _h = await holder(7, async (launch, reply) => {
      let text = '';
      for await (const chunk of launch.stdin) text += chunk;
      reply({ exitCode: 0, data: { length: text.length, head: text.slice(0, 12), tail: text.slice(-12) } });
    });
    const body = Array.from({ length: 20_000 }, (_, i) => `line ${i}\n`).join(''); // ~190 KiB: several windows
    const reply = await forwardLaunch(base(7, { stdin: Readable.from([body.slice(0, 1000), body.slice(1000)]) }));
    assert.deepEqual(reply?.data, { length: body.length, head: body.slice(0, 12), tail: body.slice(-12) });
  });

  test('without stdin the holder reads an empty stream, at once', async () => {
    await using _h = await holder(8, async (launch, reply) => {
      const chunks: unknown[] = [];
      for await (const chunk of launch.stdin) chunks.push(chunk);
      reply({ exitCode: chunks.length });
    });
    assert.equal((await forwardLaunch(base(8)))?.exitCode, 0);
  });

  test('--wait: the launcher waits as long as the holder takes (replyTimeout Infinity)', async () => {
    await using _h = await holder(9, (_launch, reply) => void setTimeout(() => reply({ exitCode: 0, message: 'closed the file' }), 1500));
    const input = new PassThrough();
    input.end('edit me');
    assert.equal((await forwardLaunch(base(9, { replyTimeout: Infinity, stdin: input })))?.message, 'closed the file');
  });
});

describe('killed mid-stream', () => {
  test('a launcher killed while the holder writes: the holder keeps serving; a holder killed: the launcher exits non-zero with ECLOSED', { timeout: 90_000 }, async () => {
    // The holder streams until its launcher goes away, then the next launch must still work.
    await using _h = await holder(10, async (launch, reply) => {
      if (launch.argv[1] === 'endless') {
        for (let i = 0; i < 100_000 && !launch.stdout.destroyed; i++) {
          if (!launch.stdout.write(`tick ${i}\n`)) await new Promise((resolve) => launch.stdout.once('drain', resolve).once('close', resolve));
        }
        return;
      }
      reply({ exitCode: 0, message: 'next' });
    });
    const launcher = new Child([fixture('stream-launcher'), JSON.stringify(base(10, { argv: ['cli', 'endless'] }))]);
    await launcher.until(() => launcher.lines.some((l) => String(l['text'] ?? '').startsWith('tick ')), 30_000, 'some output');
    launcher.kill();
    await launcher.closed;
    assert.equal((await forwardLaunch(base(10)))?.message, 'next');

    // And the other way: a holder process killed while it streams to a launcher here.
    const holderProcess = new Child([fixture('stream-holder'), JSON.stringify(base(11))]);
    await holderProcess.until(() => holderProcess.lines[0], 30_000, 'the holder');
    const log: string[] = [];
    const pending = forwardLaunch(base(11, { stdout: recorder(log, 'out') }));
    pending.catch(() => {}); // asserted below, once the holder is killed
    while (log.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    holderProcess.kill();
    await rejectsWith(pending, ErrorCode.ECLOSED);
  });
});
