/**
 * COMMAND holds solo's lock too, so that the lock lives as long as COMMAND even when solo itself
 * is killed with SIGKILL (which no process can catch or forward). The seed's solo gets this by
 * exec-ing COMMAND with the bound socket left open ($^F = 3); solo passes its listening socket to
 * COMMAND as file descriptor 3, through spawn()'s documented `stdio: [..., fd]`.
 *
 * Node gives no public way to learn a server's file descriptor (`server._handle.fd` is
 * internal), so it is found the way `ss -lp` finds it: /proc/net/tcp and tcp6 list every
 * listening socket's port and inode, /proc/self/fd links each of this process's descriptors to
 * its inode. That is Linux's public interface, and Linux only: elsewhere COMMAND does not hold
 * the lock, and a SIGKILL to solo frees it while COMMAND runs on (README, CLI).
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** TCP_LISTEN in the `st` column of /proc/net/tcp (include/net/tcp_states.h). */
const LISTEN = '0A';

/**
 * The descriptor of this process's socket listening on `port`, or undefined where it cannot be
 * found (not Linux, /proc not mounted, no such socket). Never throws: without it, COMMAND simply
 * does not share the lock.
 */
export function listeningSocketFd(port: number): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const inodes = listeningInodes(port);
    if (inodes.size === 0) return undefined;
    for (const name of readdirSync('/proc/self/fd')) {
      let target: string;
      try {
        target = readlinkSync(`/proc/self/fd/${name}`);
      } catch {
        continue; // closed meanwhile (the directory's own descriptor, for one)
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined && inodes.has(inode)) return Number(name);
    }
  } catch {
    // no /proc: nothing to pass
  }
  return undefined;
}

/** Inodes of every socket in this network namespace listening on `port`, IPv4 and IPv6. */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'latin1');
    } catch {
      continue; // no IPv6 in this kernel
    }
    // "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ..."
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (local === undefined || fields[3] !== LISTEN || fields[9] === undefined) continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) inodes.add(fields[9]);
    }
  }
  return inodes;
}
