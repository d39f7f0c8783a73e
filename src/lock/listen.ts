/**
 * One exclusive listen on a numeric address, without the modules `server.listen()` loads on
 * the way.
 *
 * `server.listen({ host, port, exclusive: true })` resolves even a numeric host through
 * node:dns, then asks node:cluster whether to share the handle, and only then calls
 * `server._listen2()`, which binds and listens. The first listen of a process loads both
 * modules, and dgram and child_process behind them: ~3.5 ms here, most of what a primary spends
 * taking the lock and of what a second instance spends finding it held (docs/benchmarks.md,
 * round 3). The lock's address is already a validated numeric loopback address and its listen
 * is always exclusive, so neither detour can change the outcome.
 *
 * `_listen2` is not documented, but Node keeps it under that name "to avoid breaking code that
 * wraps this method" (lib/net.js) and has since v0.x. Where it is missing, or takes other
 * parameters, listen() is used.
 */
import type { Server } from 'node:net';

/** `Server.prototype._listen2(address, port, addressType, backlog, fd, flags)` in lib/net.js. */
const LISTEN2_PARAMETERS = 6;
type Listen2 = (address: string, port: number, addressType: 4 | 6, backlog: undefined, fd: undefined, flags: number) => void;

/**
 * Starts listening on `addr:port` exclusively (never shared through node:cluster). Like
 * `listen()`, it reports through the server's 'listening' or 'error' event, never synchronously.
 */
export function listenExclusive(server: Server, addr: string, port: number): void {
  const direct = (server as Server & { _listen2?: unknown })._listen2;
  // Only the shape this call was written for (six parameters, as in Node 20): a Node that
  // changed it, or a wrapper with another arity, gets listen(), not arguments it may not take.
  if (typeof direct === 'function' && direct.length === LISTEN2_PARAMETERS) {
    // What listen() passes for this call: addressType as dns.lookup reports it for a numeric
    // address, the default backlog, no fd, no IPv6-only flag. The address is validated, so a
    // colon means IPv6 (net.isIPv6 would compile its large regex on first use: ~10 ms).
    (direct as Listen2).call(server, addr, port, addr.includes(':') ? 6 : 4, undefined, undefined, 0);
    return;
  }
  // `exclusive` stops node:cluster from sharing one listen among workers through the primary:
  // every worker competes for real.
  server.listen({ host: addr, port, exclusive: true });
}
