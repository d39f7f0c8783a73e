// A holder that binds without listening (Perl's Lock::Socket) against LockSocket, both ways,
// and isHeld(): "held" learned from a failed listen, where a failed connect cannot tell.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { ErrorCode, LockSocket, isHeld, lockSocket, tryLockSocket } from '../../src/lock/index.js';
import { bindOnly } from '../helpers/bind-only.js';
import { killAll } from '../helpers/child.js';
import { portsFor } from '../helpers/ports.js';
import { rejectsWith } from '../helpers/errors.js';

const { port } = portsFor(import.meta.url);
after(() => killAll());

/** What a connect to addr:port ends with: 'connected' or the error code. */
function connectOutcome(addr: string, p: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(p, addr);
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

const linuxOnly = process.platform !== 'linux' && 'records what the Linux kernel does';

describe('a bind-only holder (Perl Lock::Socket) and LockSocket exclude each other', () => {
  test('bind-only first: LockSocket sees it held (ELOCKED), though a connect is refused as on a free port', async () => {
    const p = port(0);
    const perl = await bindOnly('127.0.0.1', p);
    assert.equal(perl.bound, true, perl.failure);
    try {
      assert.equal(await connectOutcome('127.0.0.1', p), 'ECONNREFUSED', 'a bind-only socket refuses connections');
      const lock = new LockSocket({ port: p, addr: '127.0.0.1' });
      assert.equal(await lock.tryLock(), false);
      await rejectsWith(lock.lock(), ErrorCode.ELOCKED);
      assert.equal(await isHeld(p, '127.0.0.1'), true);
    } finally {
      await perl.release();
    }
    // Control: the same calls once the Perl holder has gone.
    assert.equal(await isHeld(p, '127.0.0.1'), false);
    const lock = await tryLockSocket(p, '127.0.0.1');
    assert.ok(lock, 'free once the bind-only holder exited');
    await lock.unlock();
  });

  test('LockSocket first: the bind-only holder cannot bind (EADDRINUSE)', async () => {
    const p = port(1);
    const held = await lockSocket(p, '127.0.0.1');
    try {
      const perl = await bindOnly('127.0.0.1', p);
      assert.equal(perl.bound, false, 'Perl must not get the port while LockSocket listens');
      assert.match(perl.failure ?? '', /in use/i);
      await perl.release();
    } finally {
      await held.unlock();
    }
    const perl = await bindOnly('127.0.0.1', p);
    assert.equal(perl.bound, true, `control: free again after unlock (${perl.failure})`);
    await perl.release();
  });

  test('another address is another lock, for the bind-only holder too', async () => {
    const p = port(2);
    const perl = await bindOnly('127.0.0.2', p);
    assert.equal(perl.bound, true, perl.failure);
    try {
      const lock = await tryLockSocket(p, '127.0.0.3');
      assert.ok(lock, '127.0.0.3 is not held by a bind on 127.0.0.2');
      await lock.unlock();
      assert.equal(await isHeld(p, '127.0.0.2'), true);
    } finally {
      await perl.release();
    }
  });

  test('SO_REUSEADDR on the bind-only side: Linux lets LockSocket listen anyway; once it listens, the bind fails', { skip: linuxOnly }, async () => {
    // What the kernel does (net/ipv4/inet_connection_sock.c): two sockets may share addr:port
    // when both set SO_REUSEADDR and the one already there is not listening. libuv sets it on
    // every TCP socket, so a bind-only holder that also sets it does not exclude a LockSocket.
    // Lock::Socket does not set it, which is why the tests above hold.
    const p = port(3);
    const perl = await bindOnly('127.0.0.1', p, { reuseAddr: true });
    assert.equal(perl.bound, true, perl.failure);
    const lock = await tryLockSocket(p, '127.0.0.1');
    try {
      assert.ok(lock, 'Linux: a listen beside a SO_REUSEADDR bind succeeds');
      const second = await bindOnly('127.0.0.1', p, { reuseAddr: true });
      assert.equal(second.bound, false, 'but no bind, SO_REUSEADDR or not, beside a listener');
      await second.release();
    } finally {
      await lock?.unlock();
      await perl.release();
    }
  });
});

describe('isHeld', () => {
  test('a listening holder: true, and the holder keeps its lock', async () => {
    const p = port(4);
    const held = await lockSocket(p, '127.0.0.1');
    try {
      assert.equal(await isHeld(p, '127.0.0.1'), true);
      assert.equal(held.isLocked, true);
      assert.equal(await connectOutcome('127.0.0.1', p), 'connected', 'still listening after the probe');
    } finally {
      await held.unlock();
    }
  });

  test('a free lock: false, and it is left free', async () => {
    const p = port(5);
    assert.equal(await isHeld(p, '127.0.0.1'), false);
    assert.equal(await connectOutcome('127.0.0.1', p), 'ECONNREFUSED', 'nothing listens after the probe');
    const lock = await tryLockSocket(p, '127.0.0.1');
    assert.ok(lock);
    await lock.unlock();
  });

  test('the default address is the per-user one, as for LockSocket', async () => {
    const p = port(6);
    const held = await lockSocket(p);
    try {
      assert.equal(await isHeld(p), true);
      assert.equal(await isHeld(p, held.addr), true);
    } finally {
      await held.unlock();
    }
  });

  test('bad input throws the lock\'s codes', async () => {
    for (const [p, addr, code] of [
      [0, '127.0.0.1', ErrorCode.EINVALIDPORT],
      [port(7), '10.0.0.1', ErrorCode.ENOTLOOPBACK],
      [port(7), 'localhost', ErrorCode.EINVALIDADDR],
    ] as const) {
      await rejectsWith(isHeld(p, addr), code);
    }
  });
});
