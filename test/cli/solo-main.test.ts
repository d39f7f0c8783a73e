// solo's protocol side: a solo holder answers later solos, --status describes the holder,
// --wait is woken by the holder's release. Spawned for real.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LockSocket } from '../../src/lock/index.js';
import { ExitCode } from '../../src/main/exit-codes.js';
import { LIBRARY_VERSION } from '../../src/main/constants.js';
import { portsFor } from '../helpers/ports.js';
import { privateDir } from '../helpers/dirs.js';
import { bindOnly } from '../helpers/bind-only.js';
import { killAll } from '../helpers/child.js';

const { port } = portsFor(import.meta.url);
const SOLO = fileURLToPath(new URL('../../src/cli/solo.js', import.meta.url));
const NODE = process.execPath;
const secretDir = privateDir();
const running = new Set<ReturnType<typeof spawn>>();
after(() => {
  running.forEach((c) => c.kill('SIGKILL'));
  killAll();
});

interface Run {
  code: Promise<number>;
  out: () => string;
  err: () => string;
  /** Resolves when stdout contains `text`. */
  printed: (text: string) => Promise<void>;
  /** SIGTERM to solo, which forwards it to COMMAND. */
  stop: () => void;
}

function solo(args: string[]): Run {
  return spawnSolo(['--secret-dir', secretDir, ...args]);
}

/** solo with exactly these arguments (no --secret-dir added). */
function spawnSolo(args: string[]): Run {
  const child = spawn(NODE, [SOLO, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (d) => ((out += d), waiters.forEach((w) => w())));
  child.stderr.on('data', (d) => (err += d));
  const code = new Promise<number>((resolve) =>
    child.on('exit', (c, s) => {
      running.delete(child);
      resolve(c ?? 128 + (s === 'SIGKILL' ? 9 : 15));
    }),
  );
  return {
    stop: () => void child.kill('SIGTERM'),
    code,
    out: () => out,
    err: () => err,
    printed: (text) =>
      new Promise((resolve, reject) => {
        const check = () => out.includes(text) && (resolve(), true);
        if (!check()) waiters.push(() => void check());
        void code.then(() => (out.includes(text) ? resolve() : reject(new Error(`exited without printing ${text}: ${out} ${err}`))));
      }),
  };
}

// A COMMAND that prints "running", then lives for `ms` (or until solo forwards it a SIGTERM).
const holdUntil = (ms: number) => ['-e', `console.log("running"); setTimeout(() => {}, ${ms})`];

describe('solo over the lock socket', () => {
  test('a later solo is told who holds the lock, and does not run its COMMAND', async () => {
    const p = port(0);
    const holder = solo([String(p), NODE, ...holdUntil(60_000)]);
    await holder.printed('running');
    const second = solo([String(p), NODE, '-e', 'console.log("SHOULD NOT RUN")']);
    assert.equal(await second.code, ExitCode.LOCKED);
    assert.match(second.err(), new RegExp(`127\\.0\\.0\\.1:${p} is locked: held by solo \\(pid \\d+\\) running ${NODE.replace(/[/.]/g, '\\$&')}`));
    assert.equal(second.out(), '');
    holder.stop();
    assert.equal(await holder.code, 128 + 15);
  });

  test('--status: held (with pid, appId, version; verified with --app-id), then free', async () => {
    const p = port(1);
    const holder = solo(['--app-id', 'com.example.job', String(p), NODE, ...holdUntil(60_000)]);
    await holder.printed('running');
    const plain = solo(['--status', String(p)]);
    assert.equal(await plain.code, ExitCode.OK, plain.err());
    assert.match(plain.out(), new RegExp(`127\\.0\\.0\\.1:${p} is held by pid \\d+ \\(com\\.example\\.job, lock-socket ${LIBRARY_VERSION.replaceAll('.', '\\.')}, since .*; unverified`));
    const json = solo(['--status', '--json', '--app-id', 'com.example.job', String(p)]);
    assert.equal(await json.code, ExitCode.OK);
    const status = JSON.parse(json.out());
    assert.equal(status.appId, 'com.example.job');
    assert.equal(status.verified, true);
    assert.equal(status.version, LIBRARY_VERSION);
    assert.equal(typeof status.pid, 'number');
    holder.stop();
    assert.equal(await holder.code, 128 + 15);
    const free = solo(['--status', String(p)]);
    assert.equal(await free.code, ExitCode.FREE);
    assert.match(free.out(), new RegExp(`127\\.0\\.0\\.1:${p} is free`));
  });

  test('--wait runs COMMAND once the holder has finished, woken by its release', async () => {
    const p = port(2);
    const holder = solo([String(p), NODE, '-e', 'console.log("running"); setTimeout(() => console.log("done"), 1200)']);
    await holder.printed('running');
    const waiter = solo(['--wait', String(p), NODE, '-e', 'console.log("after")']);
    await waiter.printed('after');
    // The holder's COMMAND printed "done" just before it exited, and solo released the lock only
    // after that: the waiting COMMAND cannot have started earlier.
    assert.match(holder.out(), /done/, 'the waiting COMMAND ran only after the holder finished');
    assert.equal(await waiter.code, 0, waiter.err());
  });

  test('held by something that is not lock-socket: run exits LOCKED naming the code; --status says FOREIGN (76)', async () => {
    const p = port(3);
    await using plain = new LockSocket({ port: p, addr: '127.0.0.1' });
    await plain.lock();
    const run = solo(['--addr', '127.0.0.1', String(p), NODE, '-e', '']);
    assert.equal(await run.code, ExitCode.LOCKED);
    assert.match(run.err(), /EFOREIGN/);
    const status = solo(['--status', '--addr', '127.0.0.1', String(p)]);
    assert.equal(await status.code, ExitCode.FOREIGN, status.err());
    assert.match(status.out(), new RegExp(`127\\.0\\.0\\.1:${p} is held by something that does not speak lock-socket \\(EFOREIGN`));
    const json = solo(['--status', '--json', '--addr', '127.0.0.1', String(p)]);
    assert.equal(await json.code, ExitCode.FOREIGN);
    assert.deepEqual({ ...JSON.parse(json.out()), message: undefined }, { addr: '127.0.0.1', port: p, held: true, code: 'EFOREIGN', message: undefined });
  });

  test('held by a bind-only holder (Perl\'s Lock::Socket): --status says held (ENOLISTENER, 76), not free; solo does not run', async () => {
    const p = port(5);
    const perl = await bindOnly('127.0.0.1', p);
    assert.equal(perl.bound, true, perl.failure);
    try {
      const status = solo(['--status', '--addr', '127.0.0.1', String(p)]);
      assert.equal(await status.code, ExitCode.FOREIGN, status.out() + status.err());
      assert.match(status.out(), /accepts no connections.*ENOLISTENER|ENOLISTENER.*accepts no connections/);
      const run = solo(['--addr', '127.0.0.1', String(p), NODE, '-e', 'console.log("SHOULD NOT RUN")']);
      assert.equal(await run.code, ExitCode.LOCKED, run.err());
      assert.equal(run.out(), '');
    } finally {
      await perl.release();
    }
    const free = solo(['--status', '--addr', '127.0.0.1', String(p)]);
    assert.equal(await free.code, ExitCode.FREE, `control: free once Perl exited (${free.out()})`);
  });

  test('--status --app-id: another app\'s holder is "held by another app" (3); an unproven one exits 75', async () => {
    const p = port(6);
    const holder = solo(['--app-id', 'com.example.mine', String(p), NODE, ...holdUntil(60_000)]);
    await holder.printed('running');
    try {
      const other = solo(['--status', '--app-id', 'com.example.other', String(p)]);
      assert.equal(await other.code, ExitCode.OTHER_APP, other.out() + other.err());
      assert.equal(ExitCode.OTHER_APP, 3);
      assert.match(other.out(), /is held by another app/);
      assert.doesNotMatch(other.out(), /verified|could not prove/);
      // The same appId, but this user's secret is another one (another secret dir): the holder
      // cannot prove it is this user's app, which is what an impostor looks like.
      const impostor = spawnSolo(['--secret-dir', privateDir(), '--status', '--app-id', 'com.example.mine', String(p)]);
      assert.equal(await impostor.code, ExitCode.LOCKED, impostor.out() + impostor.err());
      assert.match(impostor.out(), /is held, NOT proven: pid \d+ says it is "com\.example\.mine" but could not prove it is this user's app/);
      const mine = solo(['--status', '--app-id', 'com.example.mine', String(p)]);
      assert.equal(await mine.code, ExitCode.OK, mine.out() + mine.err());
      assert.match(mine.out(), /verified\)$/m);
    } finally {
      holder.stop();
      await holder.code;
    }
  });

  test('usage: --status with --wait, --json without --status', async () => {
    assert.equal(await solo(['--status', '--wait', String(port(4))]).code, ExitCode.USAGE);
    assert.equal(await solo(['--json', String(port(4)), NODE]).code, ExitCode.USAGE);
    assert.equal(await solo(['--status', String(port(4)), 'extra']).code, ExitCode.USAGE);
  });
});
