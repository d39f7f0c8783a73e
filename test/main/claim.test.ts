/**
 * The walk over an app's endpoints (src/main/claim.ts): no port to pick, an unrelated program on
 * the first one costs one step, instances started at once still give one primary, a squatter
 * that leaves does not let a second primary in, and holders that do not speak the protocol are
 * reported (or, with waitForRelease, waited out) within milliseconds.
 *
 * Derived ports fall anywhere in 1024-32767, so each test takes an appId whose endpoints lie below
 * the test port blocks (20000 and up) and are free when the test starts.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { portsFor } from '../helpers/ports.js';
import { privateDir } from '../helpers/dirs.js';
import { killAll } from '../helpers/child.js';
import { instance as hardInstance } from '../helpers/hard.js';
import { bindOnly } from '../helpers/bind-only.js';
import {
  ErrorCode,
  instanceStatus,
  isHeld,
  lockEndpoints,
  lockSocket,
  requestSingleInstance,
  type LockEndpoint,
  type SingleInstanceOptions,
} from '../../src/main/index.js';
import { rejectsWith } from '../helpers/errors.js';

const { port } = portsFor(import.meta.url);
const secretDir = privateDir('lock-socket-claim-');
after(() => killAll());

let serial = 0;
/** An appId whose derived endpoints (first + `alternatives`) are all below 20000 and free now. */
async function freshApp(alternatives = 4): Promise<{ appId: string; endpoints: LockEndpoint[] }> {
  for (;;) {
    const appId = `com.example.claim-${process.pid}-${serial++}`;
    const endpoints = lockEndpoints({ appId, alternatives });
    if (endpoints.some((e) => e.port >= 20000)) continue;
    if ((await Promise.all(endpoints.map((e) => isHeld(e.port, e.addr)))).some(Boolean)) continue;
    return { appId, endpoints };
  }
}

/** An unrelated program on an endpoint: it answers anything with an HTTP error and closes. */
async function squat(e: LockEndpoint): Promise<Server> {
  const server = createServer((s) => {
    s.on('error', () => {});
    s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen({ host: e.addr, port: e.port, exclusive: true }, resolve));
  return server;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

const options = (appId: string, extra: Partial<SingleInstanceOptions> = {}): SingleInstanceOptions => ({ appId, secretDir, argv: ['x'], ...extra });

describe('no port to pick', () => {
  test('the port is derived from the appId: the first launch holds it, a later one finds it', async () => {
    const { appId, endpoints } = await freshApp();
    await using primary = await requestSingleInstance(options(appId));
    assert.equal(primary.isPrimary, true);
    assert.deepEqual({ addr: primary.addr, port: primary.port }, endpoints[0]);
    primary.on('second-instance', (launch, reply) => reply({ exitCode: 0, data: launch.argv }));
    const second = await requestSingleInstance(options(appId, { argv: ['second'] }));
    assert.equal(second.isPrimary, false);
    assert.deepEqual(second.reply?.data, ['second']);
    assert.equal(second.port, endpoints[0]?.port);
    const status = await instanceStatus({ appId, secretDir });
    assert.deepEqual([status?.port, status?.pid, status?.verified], [endpoints[0]?.port, process.pid, true]);
  });

  test('an unrelated program on the first port costs one step, and every instance takes the same step', async () => {
    const { appId, endpoints } = await freshApp();
    const squatter = await squat(endpoints[0]!);
    try {
      await using primary = await requestSingleInstance(options(appId));
      assert.equal(primary.isPrimary, true);
      assert.equal(primary.port, endpoints[1]?.port, 'the first alternative');
      primary.on('second-instance', (_launch, reply) => reply({ exitCode: 0, message: 'here' }));
      const second = await requestSingleInstance(options(appId));
      assert.equal(second.reply?.message, 'here');
      assert.equal(second.port, endpoints[1]?.port);
      // instanceStatus walks the same way: the squatter is passed, the holder found.
      assert.equal((await instanceStatus({ appId, secretDir }))?.port, endpoints[1]?.port);
    } finally {
      await close(squatter);
    }
  });

  test('every endpoint squatted: the launch fails with a code, never hangs, nothing runs', async () => {
    const { appId, endpoints } = await freshApp(2);
    const squatters = await Promise.all(endpoints.map(squat));
    try {
      const error = await rejectsWith(requestSingleInstance(options(appId, { alternatives: 2 })), ErrorCode.EFOREIGN);
      assert.match(error.message, new RegExp(`${endpoints[2]!.port}`), 'it names the last endpoint it tried');
    } finally {
      await Promise.all(squatters.map(close));
    }
  });

  test('a squatter that leaves the first port later does not let a second primary in', async () => {
    const { appId, endpoints } = await freshApp();
    const squatter = await squat(endpoints[0]!);
    await using primary = await requestSingleInstance(options(appId));
    assert.equal(primary.port, endpoints[1]?.port);
    primary.on('second-instance', (_launch, reply) => reply({ exitCode: 0, message: 'the one instance' }));
    await close(squatter);
    // The first port is free now: a new launch takes it for a moment, sees the instance on the
    // second, goes there, and leaves the first port free again.
    const second = await requestSingleInstance(options(appId));
    assert.equal(second.isPrimary, false);
    assert.equal(second.reply?.message, 'the one instance');
    assert.equal(await isHeld(endpoints[0]!.port, endpoints[0]!.addr), false);
  });

  test('instances started at once with the first port squatted: exactly one primary, every other one delivered', { timeout: 120_000 }, async () => {
    const { appId, endpoints } = await freshApp();
    const squatter = await squat(endpoints[0]!);
    try {
      const n = 12;
      const all = Array.from({ length: n }, (_, i) => hardInstance({ appId, secretDir, handshakeTimeout: 20_000 }, [`start-${i}`]));
      const firsts = await Promise.all(all.map((p) => p.until(() => p.lines[0], 60_000, 'a first line')));
      const primaries = all.filter((_, i) => firsts[i]?.event === 'started');
      assert.equal(primaries.length, 1, JSON.stringify(firsts));
      const holder = primaries[0]!;
      assert.equal(holder.lines[0]?.['port'], endpoints[1]?.port);
      await holder.until(() => holder.events('launch').length === n - 1, 60_000, 'every launch');
      for (const p of all) if (p !== holder) assert.equal((await p.closed).code, 0, JSON.stringify(p.lines) + p.stderr);
      holder.send('close');
      await holder.closed;
    } finally {
      await close(squatter);
    }
  });
});

describe('holders that do not speak the protocol', () => {
  test("a holder that only binds (Perl's Lock::Socket): ENOLISTENER at once, not a retry storm", async () => {
    const p = port(0);
    const perl = await bindOnly('127.0.0.1', p);
    try {
      await rejectsWith(requestSingleInstance({ appId: 'com.example.claim', secretDir, port: p, addr: '127.0.0.1' }), ErrorCode.ENOLISTENER);
      await rejectsWith(instanceStatus({ port: p, addr: '127.0.0.1' }), ErrorCode.ENOLISTENER);
    } finally {
      await perl.release();
    }
    assert.equal(await instanceStatus({ port: p, addr: '127.0.0.1' }), undefined, 'free once Perl has gone');
  });

  test('waitForRelease outlasts a bind-only holder and a plain LockSocket (polling), then takes the lock', async () => {
    for (const [p, hold] of [
      [port(1), async () => (await bindOnly('127.0.0.1', port(1))).release],
      [port(2), async () => {
        const plain = await lockSocket(port(2), '127.0.0.1');
        return () => plain.unlock();
      }],
    ] as const) {
      const release = await hold();
      const waiting = requestSingleInstance({ appId: 'com.example.claim', secretDir, port: p, addr: '127.0.0.1', waitForRelease: true });
      let settled = false;
      void waiting.then(() => (settled = true), () => (settled = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(settled, false, `still waiting while the holder of ${p} holds it`);
      await release();
      const instance = await waiting;
      assert.equal(instance.isPrimary, true);
      await instance.close();
    }
  });
});
