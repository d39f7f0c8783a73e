import { setTimeout as sleep } from 'node:timers/promises';
import { tryLockSocket } from '../../src/lock/index.js';
import type { LockSocket } from '../../src/lock/index.js';

/**
 * Takes the lock on p (default address), retrying in this process every 10 ms for a bounded time:
 * after its holder died the kernel needs a few ms to free the port.
 */
export async function takeWithRetry(p: number, boundMs = 10_000): Promise<LockSocket> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const lock = await tryLockSocket(p);
    if (lock) return lock;
    if (Date.now() > deadline) throw new Error(`lock on port ${p} still held after ${boundMs} ms`);
    await sleep(10);
  }
}
