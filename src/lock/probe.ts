/**
 * Whether a lock is held, learned from a failed listen rather than from a failed connect.
 *
 * A holder that only binds (Perl's Lock::Socket, or anything that calls bind() without
 * listen()) refuses every connection exactly like a free port does: connect() says
 * ECONNREFUSED in both cases. Only trying to take the address and port tells them apart, so
 * that is what this does.
 */
import { LockSocket } from './lock-socket.js';

/**
 * True when someone holds `addr:port` (default address: per user, as for {@link LockSocket}),
 * false when it is free.
 *
 * **It takes the lock for a moment when it is free**: it listens and, having got the port,
 * closes it again before resolving (well under a millisecond on an idle machine). In that window
 * another process's `tryLock()` sees the lock held, and a connection that arrives is reset
 * (lock-socket's own launchers treat both as "the lock changed hands" and retry). Call it when a
 * connect was refused, to learn whether that refusal means "free" or "held by a holder that does
 * not listen", not as a way to poll a lock you mean to take: `tryLock()` takes it and keeps it.
 *
 * @throws LockSocketError as {@link LockSocket.lock} does for anything but "held":
 *   `EINVALIDPORT`, `EINVALIDADDR`, `ENOTLOOPBACK`, `EUIDRANGE`, `EPORTDENIED`, `ENOSUCHADDR`, `ELISTEN`.
 * @example
 * ```ts
 * await isHeld(5197, '127.0.0.1'); //=> true while Perl's Lock::Socket holds 127.0.0.1:5197
 * ```
 */
export async function isHeld(port: number, addr?: string): Promise<boolean> {
  const probe = new LockSocket(addr === undefined ? { port } : { port, addr });
  if (!(await probe.tryLock())) return true;
  await probe.unlock();
  return false;
}

