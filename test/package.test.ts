// The package as users load it: both entry points from CommonJS (require of ES modules, Node
// ≥ 20.19) and from ES modules, through the package's own name, without ever loading Electron;
// and src/lock depending on nothing but Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { portsFor } from './helpers/ports.js';
import { privateDir } from './helpers/dirs.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, { types?: string; default?: string } | string>;
  bin: Record<string, string>;
  dependencies?: Record<string, string>;
};

const LOCK_EXPORTS = [
  'ErrorCode',
  'LockSocket',
  'LockSocketError',
  'SYSTEM_ADDRESS',
  'defaultAddress',
  'isErrorCode',
  'lockSocket',
  'tryLockSocket',
  'validateAddress',
  'validatePort',
];

function* files(dir: string, suffix: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path, suffix);
    else if (entry.name.endsWith(suffix)) yield path;
  }
}

function node(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 60_000 });
}

// Any attempt to load electron through the CommonJS loader is recorded and refused.
const ELECTRON_TRAP = `
const Module = require('node:module');
const electronLoads = [];
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === 'electron' || request.startsWith('electron/')) {
    electronLoads.push(request);
    throw new Error('electron must not be loaded');
  }
  return load.call(this, request, ...rest);
};
const loadedElectronFiles = () => Object.keys(require.cache).filter((f) => /[\\\\/]node_modules[\\\\/]electron[\\\\/]/.test(f));
`;

test('package.json: exports with types first, a bin, no runtime dependencies', () => {
  assert.equal(pkg.name, 'lock-socket');
  for (const [key, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue;
    assert.equal(Object.keys(target)[0], 'types', `exports["${key}"] lists types first`);
  }
  assert.deepEqual(pkg.dependencies ?? {}, {});
  const bin = pkg.bin.solo;
  assert.ok(bin !== undefined);
  assert.ok(readFileSync(join(root, bin), 'utf8').startsWith('#!/usr/bin/env node\n'), 'solo starts with a shebang');
});

test("require('lock-socket') and require('lock-socket/main') load from CommonJS without Electron", () => {
  const script = `${ELECTRON_TRAP}
const lock = require('lock-socket');
const main = require('lock-socket/main');
console.log(JSON.stringify({
  lock: Object.keys(lock).sort(),
  main: Object.keys(main).length,
  electronLoads,
  electronFiles: loadedElectronFiles(),
  lockSocketType: typeof lock.LockSocket,
}));`;
  const child = node(['-e', script]);
  assert.equal(child.status, 0, child.stderr);
  const result = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as {
    lock: string[];
    main: number;
    electronLoads: string[];
    electronFiles: string[];
    lockSocketType: string;
  };
  for (const name of LOCK_EXPORTS) assert.ok(result.lock.includes(name), `lock-socket exports ${name}`);
  assert.equal(result.lockSocketType, 'function');
  assert.ok(result.main > 0, 'lock-socket/main exports something');
  assert.deepEqual(result.electronLoads, []);
  assert.deepEqual(result.electronFiles, []);
});

test('both entry points import from ES modules by name', () => {
  const script = `const lock = await import('lock-socket'); const main = await import('lock-socket/main');
console.log(JSON.stringify({ lock: Object.keys(lock), main: Object.keys(main).length }));`;
  const child = node(['--input-type=module', '-e', script]);
  assert.equal(child.status, 0, child.stderr);
  const result = JSON.parse(child.stdout) as { lock: string[]; main: number };
  for (const name of LOCK_EXPORTS) assert.ok(result.lock.includes(name), `lock-socket exports ${name}`);
  assert.ok(result.main > 0);
});

test('every export target exists in the build', () => {
  for (const [key, target] of Object.entries(pkg.exports)) {
    for (const file of typeof target === 'string' ? [target] : Object.values(target)) {
      if (file !== undefined) assert.ok(existsSync(join(root, file)), `exports["${key}"] → ${file} exists`);
    }
  }
});

test('no compiled file of the package imports electron at run time (only `import type`, which compiles away)', () => {
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)['"]electron(?:\/[^'"]*)?['"]/;
  const shipped = [...files(join(root, 'dist', 'src'), '.js'), ...files(join(root, 'dist', 'pkg'), '.js')];
  assert.ok(shipped.some((file) => file.includes(`${join('dist', 'pkg')}`)), 'the bundles are scanned too');
  const offenders = shipped.filter((file) => pattern.test(readFileSync(file, 'utf8')));
  assert.deepEqual(offenders, []);
});

test('no shipped declaration file mentions electron, so plain-Node TypeScript users need no electron types', () => {
  // A type import of 'electron' in a .d.ts is error TS2307 for every user without electron
  // installed (unless they skip lib checks); the adapter's types are structural instead.
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\/\/\/\s*<reference\s+types=)['"]electron(?:\/[^'"]*)?['"]/;
  const declarations = [...files(join(root, 'dist', 'src'), '.d.ts')];
  assert.ok(declarations.some((file) => file.endsWith(join('main', 'electron.d.ts'))), 'the adapter declarations are scanned');
  assert.deepEqual(declarations.filter((file) => pattern.test(readFileSync(file, 'utf8'))), []);
});

test('the two bundled entry points share one LockSocketError class, and the bundled solo runs', () => {
  const script = `const a = require('lock-socket'); const b = require('lock-socket/main');
console.log(a.LockSocketError === b.LockSocketError && a.LockSocket === b.LockSocket);`;
  const shared = node(['-e', script]);
  assert.equal(shared.stdout.trim(), 'true', shared.stderr);
  const solo = node([join(root, pkg.bin.solo as string), '--help']);
  assert.equal(solo.status, 0, solo.stderr);
  assert.match(solo.stdout, /^Usage: solo /);
});

test('npm pack ships the bundles and the type declarations, not tests, fixtures or sources', () => {
  const packed = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  assert.equal(packed.status, 0, packed.stderr);
  const paths = (JSON.parse(packed.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
  assert.ok(paths.includes('dist/pkg/main.js') && paths.includes('dist/pkg/index.js') && paths.includes('dist/pkg/solo.js'), paths.join());
  assert.ok(paths.includes('dist/src/main/index.d.ts') && paths.includes('dist/src/index.d.ts'), paths.join());
  const stray = paths.filter((p) => p.startsWith('dist/test') || p.startsWith('src/') || p.startsWith('test/') || (p.startsWith('dist/src') && !p.endsWith('.d.ts')));
  assert.deepEqual(stray, []);
});

test('src/lock imports only node:* and files of its own folder', () => {
  const dir = join(root, 'src', 'lock');
  const specifier = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;
  const sources = [...files(dir, '.ts')];
  assert.ok(sources.length >= 4, 'found the lock sources');
  for (const file of sources) {
    for (const match of readFileSync(file, 'utf8').matchAll(specifier)) {
      const spec = match[1] ?? '';
      assert.match(spec, /^(node:[a-z_/]+|\.\/[\w.-]+\.js)$/, `${file} imports ${spec}`);
    }
  }
});

test('a primary whose secret exists never loads node:crypto; the first second instance does', (t) => {
  // Loading node:crypto is most of a primary's start (docs/benchmarks.md, P7): it must not pay it.
  // The check can fail both ways: the same process then forwards a launch to itself, which
  // needs HMACs, and must see crypto loaded.
  const { port } = portsFor(import.meta.url);
  const secretDir = privateDir();
  const options = JSON.stringify({ port: port(0), addr: '127.0.0.1', appId: 'com.crypto', secretDir, argv: ['x'] });
  const script = `
const loaded = () => process.moduleLoadList.includes('NativeModule crypto');
const before = loaded();
const { requestSingleInstance } = await import('lock-socket/main');
const afterImport = loaded();
const primary = await requestSingleInstance(${options});
primary.on('second-instance', (launch, reply) => reply({ exitCode: 0 }));
const afterPrimary = loaded();
const second = await requestSingleInstance(${options});
const afterSecond = loaded();
await primary.close();
console.log(JSON.stringify({ before, afterImport, primary: primary.isPrimary, afterPrimary, second: second.isPrimary, afterSecond }));`;
  // The first run creates the secret (randomBytes: crypto is loaded then, rightly); the second
  // is an ordinary start.
  const first = node(['--input-type=module', '-e', script]);
  assert.equal(first.status, 0, first.stderr);
  const run = node(['--input-type=module', '-e', script]);
  assert.equal(run.status, 0, run.stderr);
  const result = JSON.parse(run.stdout) as Record<string, boolean>;
  if (result['before']) {
    t.skip('node:crypto was loaded before the package (by the environment): nothing to measure');
    return;
  }
  assert.deepEqual(result, { before: false, afterImport: false, primary: true, afterPrimary: false, second: false, afterSecond: true });
});
