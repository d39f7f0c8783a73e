// Runs the test suite under another Node version: `npm run test:node -- 24` (or 22, 26.12.1, …).
//
// Why: Electron ships a newer Node than this project's minimum, and the library must behave the
// same there (Node 24 once made every HMAC with a Buffer key 3x slower). Node's own binaries
// come from nodejs.org, which CI machines may not reach; npm's registry carries the same builds
// as `node-<platform>-<arch>` packages (what the `node` package installs), so they are fetched
// with `npm pack`, unpacked into node_modules/.cache, and reused. The build is made once with the
// current Node (tsc and esbuild need nothing newer); every test and every child process it
// spawns then runs on the other binary (the tests spawn process.execPath). Not part of `npm
// test`: it downloads a whole Node build for each version.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const [spec, ...filters] = process.argv.slice(2);
if (!spec || !/^\d+(\.\d+){0,2}$/.test(spec)) {
  console.error('usage: npm run test:node -- <version> [test file substring...]   e.g. 24 or 22.23.3');
  process.exit(2);
}
if (process.platform !== 'linux' && process.platform !== 'darwin') {
  console.error(`test:node fetches Node from npm's node-<platform>-<arch> packages, which this script uses on Linux and macOS only, not on ${process.platform}`);
  process.exit(2);
}
const name = `node-${process.platform}-${process.arch}`;
const cache = join(root, 'node_modules', '.cache', 'lock-socket-node');
mkdirSync(cache, { recursive: true });
const npm = (args) => execFileSync('npm', args, { cwd: cache, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

// The newest published version matching the spec ("24" → 24.x.y).
// npm lists them in publishing order, which is not version order (24.9.0 after 24.21.0).
const parts = (v) => v.split('.').map(Number);
const newer = (a, b) => parts(a).reduce((order, n, i) => order || n - (parts(b)[i] ?? 0), 0);
let listed = '[]';
try {
  listed = npm(['view', `${name}@${spec}`, 'version', '--json']) || '[]';
} catch {
  // npm has printed why (E404 for a version it does not have); the message below says what to do.
}
const versions = [].concat(JSON.parse(listed)).sort(newer);
const version = versions.at(-1);
if (!version) {
  console.error(`npm has no ${name}@${spec} (its node-<platform>-<arch> packages stop at Node 18 on some platforms, such as darwin-arm64)`);
  process.exit(2);
}
const dir = join(cache, version);
const binary = join(dir, 'package', 'bin', 'node');
if (!existsSync(binary)) {
  mkdirSync(dir, { recursive: true });
  npm(['pack', `${name}@${version}`, '--pack-destination', dir, '--silent']);
  const tarball = readdirSync(dir).find((file) => file.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack left no tarball in ${dir}`);
  execFileSync('tar', ['xzf', tarball], { cwd: dir, stdio: 'inherit' });
}
console.log(`testing with ${binary} (${execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim()})`);

const run = (command, args) => spawnSync(command, args, { cwd: root, stdio: 'inherit' }).status ?? 1;
if (run('npm', ['run', 'build']) !== 0) process.exit(1);
process.exit(run(binary, [join(root, 'scripts', 'test.mjs'), ...filters]));
