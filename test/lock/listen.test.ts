// The lock's listen skips what server.listen() loads on the way (node:dns, node:cluster), and
// keeps listen()'s outcomes: listening, EADDRINUSE, the 'error' and 'listening' events never
// synchronous; and where `_listen2` is missing it is listen() itself.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { listenExclusive } from '../../src/lock/listen.js';
import { portsFor } from '../helpers/ports.js';

const { port } = portsFor(import.meta.url);
const servers: Server[] = [];
after(() => {
  for (const server of servers) server.close();
});

/** 'listening' or the error's code, and whether the event came after listenExclusive returned. */
async function outcome(server: Server, addr: string, p: number): Promise<{ result: string; async: boolean }> {
  servers.push(server);
  let returned = false;
  const settled = new Promise<{ result: string; async: boolean }>((resolve) => {
    server.once('listening', () => resolve({ result: 'listening', async: returned }));
    server.once('error', (error: NodeJS.ErrnoException) => resolve({ result: error.code ?? error.message, async: returned }));
  });
  listenExclusive(server, addr, p);
  returned = true;
  return settled;
}

test('a fresh process takes and finds a lock without loading node:dns or node:cluster', (t) => {
  // What listen() would load: ~3.5 ms of a process's first lock (docs/benchmarks.md). The same
  // script through server.listen() is the control, so the check can fail.
  const lockUrl = new URL('../../src/lock/index.js', import.meta.url).href;
  const script = (how: 'lock' | 'listen'): string => `
const loaded = () => ['dns', 'cluster'].filter((m) => process.moduleLoadList.includes('NativeModule ' + m));
const before = loaded();
const { LockSocket } = await import(${JSON.stringify(lockUrl)});
const { createServer } = await import('node:net');
const first = new LockSocket({ port: ${port(0)}, addr: '127.0.0.1' });
const second = new LockSocket({ port: ${port(0)}, addr: '127.0.0.1' });
let taken, held;
if (${JSON.stringify(how)} === 'lock') {
  taken = await first.tryLock();
  held = !(await second.tryLock());
} else {
  const server = createServer();
  taken = await new Promise((r) => server.once('listening', () => r(true)).once('error', () => r(false)).listen({ host: '127.0.0.1', port: ${port(0)}, exclusive: true }));
  server.close();
  held = true;
}
await first.unlock();
console.log(JSON.stringify({ before, taken, held, after: loaded() }));`;
  const run = (how: 'lock' | 'listen'): Record<string, unknown> => {
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script(how)], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 0, child.stderr);
    return JSON.parse(child.stdout) as Record<string, unknown>;
  };
  const control = run('listen');
  if ((control['before'] as string[]).length > 0) {
    t.skip(`${(control['before'] as string[]).join(' and ')} loaded before the lock (by the environment, e.g. NODE_OPTIONS): nothing to measure`);
    return;
  }
  assert.deepEqual(control, { before: [], taken: true, held: true, after: ['dns', 'cluster'] }, 'control: listen() loads both');
  assert.deepEqual(run('lock'), { before: [], taken: true, held: true, after: [] });
});

test('listens, reports EADDRINUSE when held, and never reports synchronously', async () => {
  const first = await outcome(createServer(), '127.0.0.1', port(1));
  assert.deepEqual(first, { result: 'listening', async: true });
  assert.deepEqual(await outcome(createServer(), '127.0.0.1', port(1)), { result: 'EADDRINUSE', async: true });
  // A plain listen() elsewhere on the same address conflicts with it too: it is a real listen.
  const plain = createServer();
  servers.push(plain);
  plain.listen({ host: '127.0.0.1', port: port(1), exclusive: true });
  const [error] = (await once(plain, 'error')) as [NodeJS.ErrnoException];
  assert.equal(error.code, 'EADDRINUSE');
});

test('listens on the address it is given: IPv4, IPv6 and IPv4-mapped loopback', async (t) => {
  const v4 = createServer();
  await outcome(v4, '127.0.0.2', port(2));
  assert.deepEqual(v4.address(), { address: '127.0.0.2', family: 'IPv4', port: port(2) });
  const v6 = createServer();
  const { result } = await outcome(v6, '::1', port(3));
  if (result === 'EADDRNOTAVAIL' || result === 'EAFNOSUPPORT') {
    t.skip(`this host has no IPv6 loopback (${result})`);
    return;
  }
  assert.equal(result, 'listening');
  assert.deepEqual(v6.address(), { address: '::1', family: 'IPv6', port: port(3) });
  // An IPv4-mapped address is bound as IPv6, as listen() binds it (dns.lookup reports family 6).
  const mapped = createServer();
  assert.deepEqual(await outcome(mapped, '::ffff:127.0.0.3', port(5)), { result: 'listening', async: true });
  assert.deepEqual(mapped.address(), { address: '::ffff:127.0.0.3', family: 'IPv6', port: port(5) });
});

/**
 * Makes the first read of `server._listen2` (listenExclusive's) see `seen`, and every later one
 * (listen()'s own, on its way to binding) the real method. Returns the count of reads.
 */
function shadowFirstRead(server: Server, seen: unknown): { reads: number } {
  const real = (server as Server & { _listen2: unknown })._listen2;
  const count = { reads: 0 };
  Object.defineProperty(server, '_listen2', { get: () => (count.reads++ === 0 ? seen : real) });
  return count;
}

test('where `_listen2` is missing, it is server.listen() with the same outcomes', async () => {
  // A runtime without _listen2 also has a listen() that does not call it.
  const free = createServer();
  const freeReads = shadowFirstRead(free, undefined);
  assert.deepEqual(await outcome(free, '127.0.0.1', port(4)), { result: 'listening', async: true });
  const held = createServer();
  const heldReads = shadowFirstRead(held, undefined);
  assert.deepEqual(await outcome(held, '127.0.0.1', port(4)), { result: 'EADDRINUSE', async: true });
  assert.equal(freeReads.reads + heldReads.reads, 4, 'each server: one read by listenExclusive, one by listen() on its way to binding');
});

test('a `_listen2` with other parameters than it was written for is not called: listen() is', async () => {
  const server = createServer();
  let foreignCalls = 0;
  const foreign = function (this: Server, _options: unknown): void {
    foreignCalls++;
    throw new Error('the foreign _listen2 was called');
  };
  shadowFirstRead(server, foreign);
  assert.deepEqual(await outcome(server, '127.0.0.1', port(6)), { result: 'listening', async: true });
  assert.equal(foreignCalls, 0);
});
