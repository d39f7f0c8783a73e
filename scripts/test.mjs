// Runs node:test over every compiled test file. Node 20 does not expand globs itself, so the
// files are listed here. Usage: node scripts/test.mjs [substring...] to run a subset.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const testDir = join(root, 'dist', 'test');

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.name.endsWith('.test.js')) yield path;
  }
}

const filters = process.argv.slice(2);
const files = [...walk(testDir)]
  .filter((file) => filters.length === 0 || filters.some((f) => relative(testDir, file).includes(f)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched', filters);
  process.exit(1);
}
// Two files at a time: the machine has two cores, and every file has its own port block
// (test/helpers/ports.ts), so parallel files never collide.
// The reporter (scripts/reporter.mjs) prints failures whole, skips with their reasons, and one
// summary line; LOCK_SOCKET_TEST_REPORTER=spec (or tap) gives node's own reporters instead.
const reporter = process.env['LOCK_SOCKET_TEST_REPORTER'] ?? join(root, 'scripts', 'reporter.mjs');
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=180000', `--test-reporter=${reporter}`, ...files], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(result.status ?? 1);
