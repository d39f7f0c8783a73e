/**
 * example-app's command line (example-app/cli.ts through bin/lock-socket-example), with node
 * standing in for the Electron binary in Node mode (which is what ELECTRON_RUN_AS_NODE makes it)
 * and the stand-in Electron runtime as the GUI. It forwards to a running instance; without one it
 * starts the GUI, detached and without ELECTRON_RUN_AS_NODE; --wait waits for the answer, `-`
 * sends stdin, the holder's output comes back on stdout and stderr; a holder killed mid-stream
 * ends it non-zero, with a code.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { portsFor } from '../helpers/ports.js';
import { privateDir } from '../helpers/dirs.js';
import { Child, fixture, killAll } from '../helpers/child.js';
import { instanceStatus, type HolderStatus } from '../../src/main/index.js';

const { port } = portsFor(import.meta.url);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const appDir = join(root, 'example-app');
const wrapper = join(appDir, 'bin', 'lock-socket-example');
const runtime = fixture('electron-runtime');
const dirs: string[] = [];
/**
 * GUIs the command line started are detached, so not the Child helper's to clean up: found by the
 * secret directory in their environment (Linux), wherever a test stopped.
 */
after(() => {
  killAll();
  if (!existsSync('/proc/self/environ')) return;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let environ = '';
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
    } catch {
      continue; // gone, or not ours to read
    }
    if (dirs.some((dir) => environ.includes(`LOCK_SOCKET_EXAMPLE_SECRET_DIR=${dir}\0`))) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

function secretDirFor(): string {
  const dir = privateDir('lock-socket-cli-');
  dirs.push(dir);
  return dir;
}

function env(p: number, secretDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    LOCK_SOCKET_EXAMPLE_TEST: '1',
    LOCK_SOCKET_EXAMPLE_PORT: String(p),
    LOCK_SOCKET_EXAMPLE_SECRET_DIR: secretDir,
    LOCK_SOCKET_EXAMPLE_ELECTRON: process.execPath,
    LOCK_SOCKET_EXAMPLE_GUI: JSON.stringify([process.execPath, runtime]),
  };
}

/** The command, through its shell wrapper, as a user's shell would run it. */
function cli(p: number, secretDir: string, args: string[], input?: string): Child {
  const child = new Child([wrapper, ...args], { command: 'sh', env: env(p, secretDir) });
  if (input === undefined) child.endInput();
  else child.process.stdin?.end(input);
  return child;
}

async function gui(p: number, secretDir: string): Promise<Child> {
  const holder = new Child([runtime, appDir], { env: env(p, secretDir), stdio: ['ignore', 'pipe', 'pipe'] });
  await holder.find((l) => l.event === 'started');
  return holder;
}

const out = (child: Child): string[] => child.lines.filter((l) => l.event === 'text').map((l) => String(l['text']));

describe('the command line', () => {
  test('forwards to the running instance and exits with its answer', async () => {
    const p = port(0);
    const dir = secretDirFor();
    const holder = await gui(p, dir);
    const first = cli(p, dir, ['open', 'notes with spaces.txt', '']);
    assert.deepEqual(await first.closed, { code: 0, signal: null }, first.stderr);
    assert.match(out(first).join('\n'), /handed over to the running window \(pid \d+\), launch #1/);
    const received = await holder.find((l) => l.event === 'second-instance');
    assert.deepEqual((received['argv'] as string[]).slice(1), ['open', 'notes with spaces.txt', '']);
    assert.deepEqual(received['data'], { via: 'cli', wait: false });
    assert.equal((await cli(p, dir, ['--quit']).closed).code, 0);
    assert.equal((await holder.closed).code, 0);
  });

  test('without a running instance it starts the GUI, detached, not in Node mode, and exits', { timeout: 60_000 }, async () => {
    const p = port(1);
    const dir = secretDirFor();
    const starter = cli(p, dir, ['first']);
    assert.deepEqual(await starter.closed, { code: 0, signal: null }, starter.stderr);
    // The GUI it started now holds the lock (asked through the library: a command run before the
    // GUI is up would start a second GUI, which is what it is for).
    let holder: HolderStatus | undefined;
    for (let i = 0; i < 200 && !holder; i++) {
      holder = await instanceStatus({ appId: 'com.example.lock-socket', port: p, addr: '127.0.0.1', secretDir: dir });
      if (!holder) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(holder?.verified, 'the GUI holds the lock');
    if (existsSync(`/proc/${holder.pid}/environ`)) {
      const environ = readFileSync(`/proc/${holder.pid}/environ`, 'utf8').split('\0');
      assert.ok(environ.some((v) => v.startsWith('LOCK_SOCKET_EXAMPLE_PORT=')), 'the environment is the GUI\'s');
      assert.equal(environ.some((v) => v.startsWith('ELECTRON_RUN_AS_NODE=')), false, 'the GUI is not started in Node mode');
      // Detached: a session of its own, so closing the terminal does not end the app.
      const session = (pid: number | 'self'): string => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[3]!;
      assert.notEqual(session(holder.pid), session('self'));
    }
    const listed = cli(p, dir, ['--list']);
    assert.equal((await listed.closed).code, 0, listed.stderr);
    assert.match(listed.stderr, /^1 launches since/);
    assert.match(out(listed).join('\n'), /\["[^"]+","--list"\]/);
    const status = cli(p, dir, ['--quit']);
    assert.equal((await status.closed).code, 0);
  });

  test('--wait waits until the instance answers; `-` sends stdin; output comes back on stdout and stderr', { timeout: 60_000 }, async () => {
    const p = port(2);
    const dir = secretDirFor();
    const holder = await gui(p, dir);
    const waiting = cli(p, dir, ['--wait', 'COMMIT_EDITMSG']);
    await holder.find((l) => l.event === 'waiting' && l['file'] === 'COMMIT_EDITMSG');
    assert.equal(waiting.running, true, 'still waiting: the file is not done');
    const done = cli(p, dir, ['--done', 'COMMIT_EDITMSG']);
    assert.equal((await done.closed).code, 0);
    assert.deepEqual(await waiting.closed, { code: 0, signal: null });
    assert.deepEqual(out(waiting), ['done with COMMIT_EDITMSG']);

    const piped = cli(p, dir, ['-'], 'line one\nünïcödé ✓\n');
    assert.equal((await piped.closed).code, 0, piped.stderr);
    assert.deepEqual(out(piped), [`read ${Buffer.byteLength('line one\nünïcödé ✓\n')} bytes of stdin`]);
    assert.equal((await holder.find((l) => l.event === 'stdin'))['text'], 'line one\nünïcödé ✓\n');

    const listed = cli(p, dir, ['--list']);
    assert.equal((await listed.closed).code, 0);
    assert.deepEqual(out(listed).map((line) => line.split('\t')[0]), ['1', '2', '3', '4'], 'stdout, in order');
    assert.match(listed.stderr, /^4 launches since /, 'stderr');
    cli(p, dir, ['--quit']);
    await holder.closed;
  });

  test('through a symlink, as the deb links /usr/bin/lock-socket-example to it, the wrapper finds the entry beside its target', async () => {
    const p = port(4);
    const dir = secretDirFor();
    const holder = await gui(p, dir);
    const link = join(privateDir('lock-socket-cli-link-'), 'lock-socket-example');
    symlinkSync(wrapper, link);
    const linked = new Child([link, 'via', 'link'], { command: 'sh', env: env(p, dir) });
    linked.endInput();
    assert.deepEqual(await linked.closed, { code: 0, signal: null }, linked.stderr);
    const received = await holder.find((l) => l.event === 'second-instance');
    assert.deepEqual((received['argv'] as string[]).slice(1), ['via', 'link']);
    assert.equal((await cli(p, dir, ['--quit']).closed).code, 0);
    assert.equal((await holder.closed).code, 0);
  });

  test("the GUI binary itself, as an AppImage runs it: the holder's output, `-`'s stdin, --wait (only slower)", { timeout: 60_000 }, async () => {
    const p = port(4);
    const dir = secretDirFor();
    const holder = await gui(p, dir);
    const second = (args: string[], input?: string): Child => {
      const child = new Child([runtime, appDir, ...args], { env: env(p, dir) });
      if (input === undefined) child.endInput();
      else child.process.stdin?.end(input);
      return child;
    };
    const listed = second(['--list']);
    assert.equal((await listed.closed).code, 0, listed.stderr);
    assert.ok(out(listed).some((line) => /^1\t.*"--list"\]$/.test(line)), `the holder printed the launches on its stdout: ${JSON.stringify(listed.lines)}`);
    const piped = second(['-'], 'from the AppImage\n');
    assert.equal((await piped.closed).code, 0, piped.stderr);
    assert.equal((await holder.find((l) => l.event === 'stdin'))['text'], 'from the AppImage\n');
    const waiting = second(['--wait', 'notes.txt']);
    await holder.find((l) => l.event === 'waiting' && l['file'] === 'notes.txt');
    assert.equal((await cli(p, dir, ['--done', 'notes.txt']).closed).code, 0);
    assert.equal((await waiting.closed).code, 0, waiting.stderr);
    cli(p, dir, ['--quit']);
    await holder.closed;
  });

  test('a holder killed while it streams: the command exits 75 and says why', { timeout: 60_000 }, async () => {
    const p = port(3);
    const dir = secretDirFor();
    const holder = await gui(p, dir);
    const endless = cli(p, dir, ['--endless']);
    await endless.find((l) => String(l['text'] ?? '').startsWith('tick '));
    holder.kill();
    const exit = await endless.closed;
    assert.equal(exit.code, 75, endless.stderr);
    assert.match(endless.stderr, /ECLOSED: the holder accepted the launch, then (closed the connection|the connection failed) before/);
  });
});
