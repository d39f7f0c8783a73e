/**
 * Port blocks for test files. Every test file that binds a port takes its own block of
 * BLOCK_SIZE ports from this table, so files running in parallel never collide. All blocks
 * lie below 32768: Linux hands out 32768-60999 to client sockets, and one of those in use
 * (even in TIME_WAIT) would make a free lock look held.
 */
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// LOCK_SOCKET_TEST_PORT_BASE moves every block at once, so two checkouts can run their suites
// side by side on one machine (each needs BASE + files × BLOCK_SIZE to stay below 32768).
const BASE = Number(process.env['LOCK_SOCKET_TEST_PORT_BASE'] ?? 20000);
export const BLOCK_SIZE = 40;

// Exactly the test files that call portsFor(), each once (test/helpers/ports.test.ts checks it).
// Append a new one at the end; drop one that is gone or binds nothing. Later blocks then move,
// which is harmless: what matters is that no two files share one.
export const FILES = [
  'lock/lock-socket.test.js',
  'lock/processes.test.js',
  'lock/cluster.test.js',
  'cli/solo.test.js',
  'main/secret.test.js',
  'main/instance.test.js',
  'main/processes.test.js',
  'main/electron.test.js',
  'main/hostile.test.js',
  'main/storm.test.js',
  'main/users.test.js',
  'package.test.js',
  'example-app/e2e.test.js',
  'cli/solo-main.test.js',
  'main/faults.test.js',
  'examples/demo.test.js',
  'example-app/app.test.js',
  'lock/probe.test.js',
  'main/claim.test.js',
  'main/streams.test.js',
  'example-app/cli.test.js',
  'example-app/packaging.test.js',
  'main/channel.test.js',
  'main/relay.test.js',
  'main/options.test.js',
] as const;

/** The port block of the calling test file: `const { port } = portsFor(import.meta.url)`. */
export function portsFor(metaUrl: string): { base: number; port: (i: number) => number } {
  const testRoot = fileURLToPath(new URL('..', import.meta.url));
  const name = relative(testRoot, fileURLToPath(metaUrl)).split('\\').join('/');
  const index = (FILES as readonly string[]).indexOf(name);
  if (index < 0) throw new Error(`${name} has no port block: add it to test/helpers/ports.ts`);
  const base = BASE + index * BLOCK_SIZE;
  return {
    base,
    port(i: number) {
      if (!Number.isInteger(i) || i < 0 || i >= BLOCK_SIZE) throw new Error(`port index ${i} outside the block`);
      return base + i;
    },
  };
}
