// The package as users load it: both entry points from CommonJS (require of ES modules, Node
// 20.19+ and 22.12+) and from ES modules, through the package's own name, without ever loading
// Electron; the exact names each entry point exports, at run time and in its .d.ts; and
// src/lock depending on nothing but Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
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
  scripts: Record<string, string>;
  engines: Record<string, string>;
};

// The public surface, pinned: a name added or removed here is an API change, on purpose.
/** `lock-socket`'s values (classes, functions, constants), sorted. */
const LOCK_VALUES = ['ErrorCode', 'LockSocket', 'LockSocketError', 'SYSTEM_ADDRESS', 'defaultAddress', 'isHeld', 'lockEndpoints', 'lockSocket', 'tryLockSocket'];
/** `lock-socket`'s types (interfaces and aliases: no value behind them). */
const LOCK_TYPES = ['DefaultAddressInput', 'LockEndpoint', 'LockEndpointsInput', 'LockSocketErrorCode', 'LockSocketOptions'];
/** `lock-socket/main`'s own values; it re-exports the lock's too. */
const MAIN_VALUES = [
  'ELECTRON_FORWARD_ENV',
  'defaultSecretDir',
  'defaults',
  'focusWindow',
  'forwardLaunch',
  'getSingleInstance',
  'instanceStatus',
  'onSecondInstance',
  'releaseSingleInstanceLock',
  'requestSingleInstance',
  'requestSingleInstanceLock',
  'secretPath',
];
/** `lock-socket/main`'s own types. SingleInstance is one: instances come from requestSingleInstance. */
const MAIN_TYPES = [
  'AllowForeground',
  'Delivery',
  'ElectronApp',
  'ElectronLockOptions',
  'ElectronSecondInstanceListener',
  'FocusableWindow',
  'HolderStatus',
  'JsonValue',
  'Launch',
  'LaunchReply',
  'ReplyFunction',
  'SecondInstanceEvent',
  'SecondInstanceListener',
  'SingleInstance',
  'SingleInstanceOptions',
  'StatusOptions',
];
const sorted = (names: Iterable<string>): string[] => [...names].sort();
const ALL_MAIN_VALUES = sorted([...LOCK_VALUES, ...MAIN_VALUES]);

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

test('package.json: exports with types first, a bin, no runtime dependencies, no install-time scripts', () => {
  assert.equal(pkg.name, 'lock-socket');
  for (const [key, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue;
    assert.equal(Object.keys(target)[0], 'types', `exports["${key}"] lists types first`);
  }
  assert.deepEqual(pkg.dependencies ?? {}, {});
  const bin = pkg.bin.solo;
  assert.ok(bin !== undefined);
  assert.ok(readFileSync(join(root, bin), 'utf8').startsWith('#!/usr/bin/env node\n'), 'solo starts with a shebang');
  // npm runs these when the package is installed (prepare too, from a tarball or git), and warns
  // every consumer about them; the build runs at `npm pack` time instead (prepack).
  for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) assert.equal(pkg.scripts[script], undefined, `no ${script} script`);
  assert.equal(pkg.scripts['prepack'], 'npm run build');
  // require(esm) arrived in Node 20.19 and 22.12: 22.0-22.11 cannot require() the package.
  assert.equal(pkg.engines['node'], '^20.19.0 || >=22.12.0');
});

test("require('lock-socket') and require('lock-socket/main') load from CommonJS without Electron", () => {
  const script = `${ELECTRON_TRAP}
const lock = require('lock-socket');
const main = require('lock-socket/main');
console.log(JSON.stringify({
  lock: Object.keys(lock).sort(),
  main: Object.keys(main).sort(),
  electronLoads,
  electronFiles: loadedElectronFiles(),
  lockSocketType: typeof lock.LockSocket,
}));`;
  const child = node(['-e', script]);
  assert.equal(child.status, 0, child.stderr);
  const result = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as {
    lock: string[];
    main: string[];
    electronLoads: string[];
    electronFiles: string[];
    lockSocketType: string;
  };
  assert.deepEqual(result.lock, LOCK_VALUES);
  assert.deepEqual(result.main, ALL_MAIN_VALUES);
  assert.equal(result.lockSocketType, 'function');
  assert.deepEqual(result.electronLoads, []);
  assert.deepEqual(result.electronFiles, []);
});

test('both entry points import from ES modules by name', () => {
  const script = `const lock = await import('lock-socket'); const main = await import('lock-socket/main');
console.log(JSON.stringify({ lock: Object.keys(lock).sort(), main: Object.keys(main).sort(), frozen: Object.isFrozen(main.defaults) }));`;
  const child = node(['--input-type=module', '-e', script]);
  assert.equal(child.status, 0, child.stderr);
  const result = JSON.parse(child.stdout) as { lock: string[]; main: string[]; frozen: boolean };
  assert.deepEqual(result.lock, LOCK_VALUES);
  assert.deepEqual(result.main, ALL_MAIN_VALUES);
  assert.ok(result.frozen, 'defaults is frozen');
});

test("each entry point's .d.ts declares exactly its names: the values above, and the types", () => {
  // Read by TypeScript itself (the CommonJS floor's compiler, for its API), so `export *` and
  // `export type` count as a compiler sees them.
  const ts = createRequire(import.meta.url)('typescript-cjs-lowest') as typeof import('typescript-cjs-lowest');
  const target = (entry: string): string => {
    const t = pkg.exports[entry];
    assert.ok(t !== undefined && typeof t !== 'string' && t.types !== undefined, `exports["${entry}"].types`);
    return join(root, t.types);
  };
  const files = { '.': target('.'), './main': target('./main') };
  const program = ts.createProgram(Object.values(files), { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noLib: true, types: [] });
  const checker = program.getTypeChecker();
  const declared = (file: string): { values: string[]; types: string[] } => {
    const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
    const values: string[] = [];
    const types: string[] = [];
    for (const symbol of checker.getExportsOfModule(module)) {
      // A value exported with `export type` is a type for users: no `new`, no `instanceof`.
      const typeOnly = symbol.declarations?.some((d) => ts.isTypeOnlyImportOrExportDeclaration(d)) ?? false;
      const resolved = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      (resolved.flags & ts.SymbolFlags.Value && !typeOnly ? values : types).push(symbol.name);
    }
    return { values: values.sort(), types: types.sort() };
  };
  assert.deepEqual(declared(files['.']), { values: LOCK_VALUES, types: LOCK_TYPES });
  assert.deepEqual(declared(files['./main']), { values: ALL_MAIN_VALUES, types: sorted([...LOCK_TYPES, ...MAIN_TYPES]) });
});

test('lock-socket loads only the lock: its bundle imports no file; lock-socket/main imports it', () => {
  const bundle = (entry: string): string => {
    const t = pkg.exports[entry];
    assert.ok(t !== undefined && typeof t !== 'string' && t.default !== undefined);
    return readFileSync(join(root, t.default), 'utf8');
  };
  const imports = (code: string): string[] => [...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s*)["']([\w@./:-]+)["']/g)].map((m) => m[1]!);
  assert.deepEqual(imports(bundle('.')).filter((s) => !s.startsWith('node:')), []);
  assert.deepEqual([...new Set(imports(bundle('./main')).filter((s) => !s.startsWith('node:')))], ['./index.js']);
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
  const declarations = [...files(join(root, 'dist', 'pkg'), '.d.ts')];
  assert.ok(declarations.some((file) => readFileSync(file, 'utf8').includes('declare function requestSingleInstanceLock(')), 'the adapter declarations are scanned');
  assert.deepEqual(declarations.filter((file) => pattern.test(readFileSync(file, 'utf8'))), []);
});

test('the two bundled entry points share one LockSocketError class, and the bundled solo runs', () => {
  // Not only the re-exported names: an error thrown inside lock-socket/main is an instance of
  // lock-socket's class (main's bundle takes the class from the lock's, it holds no copy).
  const script = `const a = require('lock-socket'); const b = require('lock-socket/main');
b.requestSingleInstance({ port: 1 }).catch((error) => {
  console.log(a.LockSocketError === b.LockSocketError && a.LockSocket === b.LockSocket, error instanceof a.LockSocketError, error.code);
});`;
  const shared = node(['-e', script]);
  assert.equal(shared.stdout.trim(), 'true true EINVALIDOPTION', shared.stderr);
  const solo = node([join(root, pkg.bin.solo as string), '--help']);
  assert.equal(solo.status, 0, solo.stderr);
  assert.match(solo.stdout, /^Usage: solo /);
});

test('npm pack ships the bundles and their declarations, and nothing else: no source maps, tests or sources', () => {
  const packed = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  assert.equal(packed.status, 0, packed.stderr);
  const paths = (JSON.parse(packed.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
  assert.deepEqual(paths.sort(), ['README.md', 'dist/pkg/index.d.ts', 'dist/pkg/index.js', 'dist/pkg/main.d.ts', 'dist/pkg/main.js', 'dist/pkg/solo.js', 'package.json']);
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
