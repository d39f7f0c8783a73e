// The lock in one process, with real sockets: Perl Lock::Socket's SYNOPSIS line by line, then
// the errors, the connections and the listeners that conflict with a lock.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Server, connect, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { once } from 'node:events';
import {
  ErrorCode,
  LockSocket,
  LockSocketError,
  defaultAddress,
  lockSocket,
  tryLockSocket,
} from '../../src/lock/index.js';
import { formatEndpoint } from '../../src/lock/address.js';
import { portsFor } from '../helpers/ports.js';
import { nobody } from '../helpers/nobody.js';
import { rejectsWith, throwsWith } from '../helpers/errors.js';

const { port } = portsFor(import.meta.url);
const lockIndexUrl = new URL('../../src/lock/index.js', import.meta.url).href;

// Every lock a test takes is registered here, so a failing assertion never leaks a listener.
const taken: LockSocket[] = [];
function track<T extends LockSocket | undefined>(lock: T): T {
  if (lock !== undefined) taken.push(lock);
  return lock;
}
after(async () => {
  await Promise.all(taken.map((lock) => lock.unlock()));
});

/** Connects a client and resolves with everything it read once the server side closed it. */
async function readUntilClosed(p: number, addr = '127.0.0.1'): Promise<string> {
  const client = connect({ host: addr, port: p });
  client.setEncoding('utf8');
  let text = '';
  client.on('data', (chunk: string) => (text += chunk));
  client.on('error', () => {}); // a reset counts as closed
  await once(client, 'close');
  return text;
}

describe('the SYNOPSIS, line by line', () => {
  test('lock, conflict, tryLock, re-lock, unlock, idempotent unlock', async () => {
    const p = port(0);
    const lock = track(await lockSocket(p));
    assert.equal(lock.isLocked, true);
    assert.equal(lock.port, p);
    assert.equal(lock.addr, defaultAddress());
    assert.ok(lock.server instanceof Server);
    assert.deepEqual(
      { address: (lock.server.address() as { address: string }).address, port: (lock.server.address() as { port: number }).port },
      { address: lock.addr, port: p },
    );

    // A second object in the same process conflicts, like another process would.
    const other = track(new LockSocket({ port: p }));
    const error = await rejectsWith(other.lock(), ErrorCode.ELOCKED);
    assert.ok(error.message.includes(formatEndpoint(lock.addr, p)), error.message);
    assert.equal((error.cause as NodeJS.ErrnoException).code, 'EADDRINUSE');
    assert.equal(other.isLocked, false);
    assert.equal(await other.tryLock(), false);
    assert.equal(other.isLocked, false);
    assert.equal(other.server, undefined);

    // Re-locking what this object holds changes nothing.
    const server = lock.server;
    await lock.lock();
    assert.equal(await lock.tryLock(), true);
    assert.equal(lock.server, server);

    // Unlock makes it available to others at once: no delay, no retry.
    await lock.unlock();
    assert.equal(lock.isLocked, false);
    assert.equal(lock.server, undefined);
    assert.equal(await other.tryLock(), true);
    assert.equal(other.isLocked, true);

    await lock.unlock(); // idempotent, also while someone else holds the port
    await Promise.all([other.unlock(), other.unlock()]);
    assert.equal(other.isLocked, false);
    // The object that failed first retries successfully now.
    await lock.lock();
    assert.equal(lock.isLocked, true);
    await lock.unlock();
  });

  test('tryLockSocket resolves undefined while held, a LockSocket when free', async () => {
    const p = port(1);
    const held = track(await lockSocket(p));
    assert.equal(await tryLockSocket(p), undefined);
    await rejectsWith(lockSocket(p), ErrorCode.ELOCKED);
    await held.unlock();
    const got = track(await tryLockSocket(p));
    assert.ok(got instanceof LockSocket);
    assert.equal(got.isLocked, true);
    await got.unlock();
  });

  test('`await using` releases the lock at scope exit, also when the scope throws', async () => {
    const p = port(2);
    {
      await using held = await lockSocket(p);
      assert.equal(held.isLocked, true);
      assert.equal(await tryLockSocket(p), undefined);
    }
    const free = track(await tryLockSocket(p));
    assert.ok(free, 'the lock is free after the scope');
    await free.unlock();

    await assert.rejects(async () => {
      await using held = await lockSocket(p);
      assert.equal(held.isLocked, true);
      throw new Error('boom');
    }, /boom/);
    const again = track(await tryLockSocket(p));
    assert.ok(again, 'the lock is free after a throwing scope');
    await again.unlock();
  });

  test('the functions take (port, addr): an explicit address is a different lock from the default', async () => {
    const p = port(3);
    const mine = track(await lockSocket(p));
    assert.equal(mine.addr, '127.0.0.1');
    const other = track(await lockSocket(p, '127.0.0.2'));
    assert.equal(other.addr, '127.0.0.2');
    assert.equal(await tryLockSocket(p, '127.0.0.2'), undefined);
    const v6 = track(await tryLockSocket(p, '::1'));
    assert.ok(v6, '::1 is its own lock');
    assert.equal(v6.addr, '::1');
    const error = await rejectsWith(lockSocket(p, '::1'), ErrorCode.ELOCKED);
    assert.ok(error.message.includes(`[::1]:${p}`), error.message);
    await Promise.all([mine.unlock(), other.unlock(), v6.unlock()]);
  });
});

describe('concurrent calls', () => {
  test('concurrent lock() calls share one attempt, in success and in failure', async () => {
    const p = port(4);
    const lock = track(new LockSocket({ port: p }));
    await Promise.all([lock.lock(), lock.lock(), lock.tryLock()]);
    assert.equal(lock.isLocked, true);

    const other = track(new LockSocket({ port: p }));
    const results = await Promise.allSettled([other.lock(), other.lock()]);
    assert.equal(results[0]?.status, 'rejected');
    assert.equal(results[1]?.status, 'rejected');
    // One attempt: both errors wrap the one EADDRINUSE of its one listen.
    const [first, second] = results.map((r) => (r as PromiseRejectedResult).reason as LockSocketError);
    assert.equal(first?.code, ErrorCode.ELOCKED);
    assert.equal(second?.code, ErrorCode.ELOCKED);
    assert.equal((first?.cause as NodeJS.ErrnoException).code, 'EADDRINUSE');
    assert.equal(first?.cause, second?.cause);
    await lock.unlock();
  });

  test('lock and unlock run in call order: the last call decides', async () => {
    const p = port(5);
    const lock = track(new LockSocket({ port: p }));
    await Promise.all([lock.lock(), lock.unlock()]);
    assert.equal(lock.isLocked, false);
    const probe = track(await tryLockSocket(p));
    assert.ok(probe, 'lock() then unlock() leaves the port free');
    await probe.unlock();
    await Promise.all([lock.lock(), lock.unlock(), lock.lock()]);
    assert.equal(lock.isLocked, true);
    assert.equal(await tryLockSocket(p), undefined);
    await lock.unlock();
  });
});

describe('invalid input fails before anything is bound', () => {
  // Counts listen() calls on every net.Server, so "never bound" is observed, not assumed.
  function countListens<T>(fn: () => T): { result: T; listens: number } {
    const original = Server.prototype.listen;
    let listens = 0;
    Server.prototype.listen = function (this: Server, ...args: unknown[]) {
      listens += 1;
      return (original as (...a: unknown[]) => Server).apply(this, args);
    } as typeof original;
    try {
      return { result: fn(), listens };
    } finally {
      Server.prototype.listen = original;
    }
  }

  test('EINVALIDPORT for 0, -1, 65536, 1.5 and "x"', async () => {
    for (const bad of [0, -1, 65536, 1.5, 'x']) {
      const { listens } = countListens(() => throwsWith(() => new LockSocket({ port: bad as number }), ErrorCode.EINVALIDPORT));
      assert.equal(listens, 0);
      await rejectsWith(lockSocket(bad as number), ErrorCode.EINVALIDPORT);
      await rejectsWith(tryLockSocket(bad as number), ErrorCode.EINVALIDPORT);
    }
  });

  test('ENOTLOOPBACK for 10.0.0.1, 0.0.0.0 and 8.8.8.8, never bound', async () => {
    for (const addr of ['10.0.0.1', '0.0.0.0', '8.8.8.8', '::']) {
      const { listens } = countListens(() => throwsWith(() => new LockSocket({ port: port(6), addr }), ErrorCode.ENOTLOOPBACK));
      assert.equal(listens, 0);
      await rejectsWith(lockSocket(port(6), addr), ErrorCode.ENOTLOOPBACK);
    }
  });

  test('EINVALIDADDR for a host name: names are never resolved', async () => {
    throwsWith(() => new LockSocket({ port: port(6), addr: 'localhost' }), ErrorCode.EINVALIDADDR);
    await rejectsWith(tryLockSocket(port(6), 'localhost'), ErrorCode.EINVALIDADDR);
  });

  test('EINVALIDOPTION for options of the wrong type', () => {
    throwsWith(() => new LockSocket(undefined as unknown as { port: number }), ErrorCode.EINVALIDOPTION);
    throwsWith(() => new LockSocket({ port: port(6), keepAlive: 'yes' as unknown as boolean }), ErrorCode.EINVALIDOPTION);
    throwsWith(() => new LockSocket({ port: port(6), onConnection: 1 as unknown as () => void }), ErrorCode.EINVALIDOPTION);
  });
});

describe('errors from the operating system', () => {
  function runChild(command: string, args: string[], options: { uid?: number; gid?: number } = {}) {
    return spawnSync(command, args, { encoding: 'utf8', timeout: 90_000, ...options });
  }
  const script = (p: number, addr: string): string =>
    `import { lockSocket } from ${JSON.stringify(lockIndexUrl)};
     try { const l = await lockSocket(${p}, ${JSON.stringify(addr)}); console.log(JSON.stringify({ locked: true })); await l.unlock(); }
     catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, cause: e.cause?.code })); }`;

  test('EPORTDENIED for port 80 without the right to bind it (run as user nobody)', (t) => {
    const user = nobody();
    if (typeof user === 'string') return t.skip(user);
    const { uid, gid } = user;
    const child = runChild(process.execPath, ['--input-type=module', '-e', script(80, '127.0.0.1')], { uid, gid });
    assert.equal(child.status, 0, child.stderr);
    const result = JSON.parse(child.stdout) as { code?: string; locked?: boolean; cause?: string; message?: string };
    if (result.locked) return t.skip('this host lets unprivileged users bind port 80 (ip_unprivileged_port_start)');
    assert.equal(result.code, ErrorCode.EPORTDENIED, result.message);
    assert.equal(result.cause, 'EACCES');
    assert.ok(result.message?.includes('127.0.0.1:80'), result.message);
  });

  test('ENOSUCHADDR for an address the host lacks (::1 in a fresh network namespace)', (t) => {
    if (process.platform !== 'linux') return t.skip('needs Linux network namespaces');
    const probe = runChild('unshare', ['-n', 'true']);
    if (probe.status !== 0) return t.skip(`cannot create a network namespace: ${probe.error?.message ?? probe.stderr.trim()}`);
    const child = runChild('unshare', ['-n', process.execPath, '--input-type=module', '-e', script(port(7), '::1')]);
    assert.equal(child.status, 0, child.stderr);
    const result = JSON.parse(child.stdout) as { code?: string; message?: string; cause?: string };
    assert.equal(result.code, ErrorCode.ENOSUCHADDR, result.message);
    assert.equal(result.cause, 'EADDRNOTAVAIL');
  });
});

describe('connections on the lock port', () => {
  test('without onConnection a connection is destroyed at once', async () => {
    const p = port(8);
    const lock = track(await lockSocket(p));
    assert.equal(await readUntilClosed(p), '');
    assert.equal(lock.isLocked, true, 'a connection does not disturb the lock');
    await lock.unlock();
  });

  test('onConnection receives every accepted connection', async () => {
    const p = port(9);
    const accepted: Socket[] = [];
    const lock = track(new LockSocket({
      port: p,
      onConnection: (socket) => {
        accepted.push(socket);
        socket.end(`hello ${accepted.length}`);
      },
    }));
    await lock.lock();
    assert.equal(await readUntilClosed(p), 'hello 1');
    assert.equal(await readUntilClosed(p), 'hello 2');
    assert.equal(accepted.length, 2);
    await lock.unlock();
  });

  test('unlock destroys the connections still open, and the port is free when it resolves', async () => {
    const p = port(10);
    let serverSide: Socket | undefined;
    const lock = track(new LockSocket({ port: p, onConnection: (socket) => (serverSide = socket) }));
    await lock.lock();
    const client = connect({ host: lock.addr, port: p });
    client.on('error', () => {});
    const clientClosed = once(client, 'close');
    await once(client, 'connect');
    while (serverSide === undefined) await new Promise((resolve) => setImmediate(resolve));
    await lock.unlock();
    assert.equal(serverSide.destroyed, true);
    await clientClosed; // the client sees the end: no half-open channel survives an unlock
    const next = track(await tryLockSocket(p));
    assert.ok(next, 'free right after unlock');
    await next.unlock();
  });
});

describe('foreign listeners', () => {
  test('a wildcard listener on 0.0.0.0:port by any program makes lock() ELOCKED', async () => {
    const p = port(11);
    const foreign = createServer();
    foreign.listen({ host: '0.0.0.0', port: p });
    await once(foreign, 'listening');
    try {
      await rejectsWith(lockSocket(p), ErrorCode.ELOCKED);
      await rejectsWith(lockSocket(p, '127.0.0.2'), ErrorCode.ELOCKED);
    } finally {
      foreign.close();
      await once(foreign, 'close');
    }
    const lock = track(await tryLockSocket(p));
    assert.ok(lock, 'free once the foreign listener is gone');
    await lock.unlock();
  });

  test('a plain listener on the same loopback address makes lock() ELOCKED, and the lock blocks it too', async () => {
    const p = port(12);
    const foreign = createServer();
    foreign.listen({ host: '127.0.0.1', port: p });
    await once(foreign, 'listening');
    await rejectsWith(lockSocket(p, '127.0.0.1'), ErrorCode.ELOCKED);
    foreign.close();
    await once(foreign, 'close');

    const lock = track(await lockSocket(p, '127.0.0.1'));
    const intruder = createServer();
    intruder.listen({ host: '127.0.0.1', port: p });
    const [error] = (await once(intruder, 'error')) as [NodeJS.ErrnoException];
    assert.equal(error.code, 'EADDRINUSE');
    await lock.unlock();
  });
});

