// requestSingleInstance across real processes, in the shape of Electron's own
// requestSingleInstanceLock spec: first instance prints `started`, a second one with extra
// arguments exits with the documented code, and the first received exactly what it sent.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { portsFor } from '../helpers/ports.js';
import { privateDir } from '../helpers/dirs.js';
import { Child, fixture } from '../helpers/child.js';
import { instanceStatus } from '../../src/main/index.js';

const { port } = portsFor(import.meta.url);
const secretDir = privateDir();
const appId = 'com.example.processes-test';
// This file's waits have no guard of their own, as before: the runner's --test-timeout bounds
// each test, and a child that exits without the awaited line fails the wait at once.
const UNGUARDED = Infinity;
const children: Child[] = [];
after(async () => {
  await Promise.all(children.map((p) => p.stop(500)));
});

/** main-holder or main-launcher, with its options in LOCK_SOCKET_FIXTURE as those fixtures read them. */
function run(name: string, args: string[], config: object, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Child {
  const env = { ...process.env, ...options.env, LOCK_SOCKET_FIXTURE: JSON.stringify(config) };
  const p = new Child([fixture(name), ...args], { ...options, env });
  children.push(p);
  return p;
}

describe('Electron spec shape', () => {
  const cases: [string, unknown][] = [
    ['no data', undefined],
    ['an object', { level: 1, testkey: 'testvalue1', nested: { a: [1, 2, 3] } }],
    ['a string', 'just text ✓'],
    ['a number', 42],
    ['null', null],
  ];
  for (const [name, data] of cases) {
    test(`second instance forwards args, cwd and ${name}, and exits with the reply's code`, async () => {
      const config = { port: port(0), appId, secretDir };
      const first = run('main-holder', [], config);
      await first.find((e) => e.event === 'started', UNGUARDED, 'started');
      const args = ['--some-switch', 'positional arg', '', 'ü', '--', 'last'];
      const second = run('main-launcher', args, { ...config, ...(data === undefined ? {} : { data }) }, { cwd: tmpdir() });
      const exitCode = (await second.closed).code;
      assert.equal(exitCode, 0);
      const launch = (await first.find((e) => e.event === 'launch', UNGUARDED)).launch;
      assert.deepEqual(launch.argv, args);
      assert.equal(launch.cwd, tmpdir());
      assert.deepEqual(launch.data, data);
      assert.equal(launch.pid, second.pid);
      const reply = second.lines.find((e) => e.event === 'reply');
      assert.deepEqual(reply?.reply, { exitCode: 0, message: `received ${args.length} arguments`, data: { echo: args } });
      assert.equal(reply?.delivered.holderPid, first.pid);
      assert.equal((await first.stop()).code, 0, 'the first instance exits cleanly');
      assert.ok(first.lines.some((e) => e.event === 'closed'));
    });
  }

  test('NODE_DEBUG=lock-socket logs the protocol steps on both sides', async () => {
    const config = { port: port(6), appId, secretDir };
    const first = run('main-holder', [], config, { env: { NODE_DEBUG: 'lock-socket' } });
    await first.find((e) => e.event === 'started', UNGUARDED, 'started');
    const second = run('main-launcher', ['x'], config, { env: { NODE_DEBUG: 'lock-socket' } });
    assert.equal((await second.closed).code, 0);
    assert.match(second.stderr, /LOCK-SOCKET \d+: challenge from pid \d+/);
    assert.match(second.stderr, /LOCK-SOCKET \d+: launch accepted by pid \d+/);
    assert.match(first.stderr, /LOCK-SOCKET \d+: primary on 127\.\d+\.\d+\.\d+:\d+/);
    await first.stop();
  });

  test("the launcher exits with the holder's exit code", async () => {
    const config = { port: port(1), appId, secretDir };
    const first = run('main-holder', [], config);
    await first.find((e) => e.event === 'started', UNGUARDED, 'started');
    const second = run('main-launcher', ['x'], { ...config, data: { exitCode: 7 } });
    assert.equal((await second.closed).code, 7);
    await first.stop();
  });
});

describe('many launches, dying holders', () => {
  test('50 processes started at once: one primary, 49 launches delivered exactly once and answered', async () => {
    const config = { port: port(2), appId, secretDir, handshakeTimeout: 20_000 };
    const all = Array.from({ length: 50 }, (_, i) => run('main-launcher', [`launch ${i}`, `ü${i}`, ''], config));
    const firsts = await Promise.all(all.map((p) => p.find((e) => e.event === 'primary' || e.event === 'reply' || e.event === 'error', UNGUARDED)));
    const primaries = all.filter((_, i) => firsts[i]?.event === 'primary');
    assert.equal(primaries.length, 1, JSON.stringify(firsts.filter((e) => e.event !== 'reply')));
    const primary = primaries[0] as Child;
    const others = all.filter((p) => p !== primary);
    assert.deepEqual((await Promise.all(others.map((p) => p.closed))).map((e) => e.code), others.map(() => 0));
    for (const p of others) {
      const reply = p.lines.find((e) => e.event === 'reply');
      assert.equal(reply?.reply.message, `primary ${primary.pid} got it`);
    }
    const launches = primary.events('launch').map((e) => e.launch);
    assert.equal(launches.length, 49);
    const expected = others.map((p) => {
      const i = all.indexOf(p);
      return JSON.stringify([`launch ${i}`, `ü${i}`, '']);
    });
    assert.deepEqual(launches.map((l) => JSON.stringify(l.argv)).sort(), expected.sort());
    assert.deepEqual(new Set(launches.map((l) => l.pid)), new Set(others.map((p) => p.pid)));
    await primary.stop();
  });

  test('SIGKILL the holder: the next launch becomes primary', async () => {
    const config = { port: port(3), appId, secretDir };
    const first = run('main-holder', [], config);
    await first.find((e) => e.event === 'started', UNGUARDED, 'started');
    first.kill('SIGKILL');
    await first.exited;
    const next = run('main-launcher', [], config);
    await next.find((e) => e.event === 'primary', UNGUARDED, 'primary');
    await next.stop();
  });

  test('the relaunch race: a new copy waits for the old one to quit, then takes over', async () => {
    const config = { port: port(4), appId, secretDir };
    const old = run('main-holder', [], config);
    await old.find((e) => e.event === 'started', UNGUARDED, 'started');
    const fresh = run('main-launcher', ['--relaunched'], { ...config, waitForRelease: true });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(fresh.lines.length, 0, 'the new copy waits while the old one holds the lock');
    assert.equal(fresh.process.exitCode, null);
    await old.stop();
    await fresh.find((e) => e.event === 'primary', UNGUARDED, 'primary');
    await fresh.stop();
  });

  test('a waiting copy takes over when the holder is SIGKILLed', async () => {
    const config = { port: port(5), appId, secretDir };
    const old = run('main-holder', [], config);
    await old.find((e) => e.event === 'started', UNGUARDED, 'started');
    const fresh = run('main-launcher', [], { ...config, waitForRelease: true });
    await new Promise((r) => setTimeout(r, 300));
    old.kill('SIGKILL');
    await fresh.find((e) => e.event === 'primary', UNGUARDED, 'primary');
    await fresh.stop();
  });
});

describe("the README's first snippet, run as it is", () => {
  test('a primary with a second-instance listener keeps serving; without one, it ends on its own', { timeout: 60_000 }, async () => {
    const env = { ...process.env, README_SNIPPET_PORT: String(port(30)), README_SNIPPET_SECRET_DIR: secretDir };
    const holder = new Child([fixture('readme-snippet')], { env });
    children.push(holder);
    let status;
    for (let i = 0; i < 200 && !status; i++) {
      status = await instanceStatus({ port: port(30), appId: 'com.example.app', secretDir });
      if (!status) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(status?.pid, holder.process.pid, 'the snippet holds the lock');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(holder.running, true, 'still serving after its script has run to the end');
    const launcher = new Child([fixture('readme-snippet')], { env });
    assert.equal((await launcher.closed).code, 0);
    assert.deepEqual(launcher.lines, [{ event: 'text', text: 'opened in the running window' }]);
    holder.kill('SIGTERM');
    await holder.closed;

    // Without the listener the lock keeps nothing alive: the program ends, and the lock with it.
    const bare = new Child([fixture('readme-snippet')], { env: { ...env, README_SNIPPET_NO_LISTENER: '1' } });
    assert.deepEqual(await bare.closed, { code: 0, signal: null });
  });
});
