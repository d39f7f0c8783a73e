/**
 * The install docs/install.md documents, run on this machine without the network: `npm pack` in
 * a copy of the checkout (standing in for `git clone` + `npm ci`: its node_modules are linked),
 * which builds through `prepack`; `npm install` of the tarball into a new project; then the
 * package as that project sees it: both entry points imported and required, `solo --help`, and
 * TypeScript consumers compiled with the lowest versions docs/install.md supports.
 *
 * Binds no port. The copy builds into its own dist/, never this checkout's, which other test
 * files are running from.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { privateDir } from './helpers/dirs.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string };
const tarballName = `${pkg.name}-${pkg.version}.tgz`;

/** The command block of docs/install.md that this file runs (marked `install-test`). */
function documentedCommands(): string[] {
  const text = readFileSync(join(root, 'docs', 'install.md'), 'utf8');
  const block = /<!-- install-test:[^>]*-->\n```sh\n([\s\S]*?)```/.exec(text);
  assert.ok(block, 'docs/install.md has the marked command block');
  return block[1]!.trim().split('\n');
}

function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 120_000, shell: process.platform === 'win32' });
}

let work = '';
let app = '';
let installLog = '';

before(() => {
  work = privateDir('lock-socket-install-');
  // `git clone` + `npm ci --ignore-scripts`: what a clone holds that the build reads, and the
  // installed tools. The copy is of the working tree, so uncommitted changes are tested too.
  const clone = join(work, 'lock-socket');
  mkdirSync(clone);
  for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'README.md', 'src', 'scripts']) {
    cpSync(join(root, entry), join(clone, entry), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir');
  // `npm pack`, verbatim: prepack builds.
  const packed = run('npm', ['pack'], clone);
  assert.equal(packed.status, 0, `${packed.stdout}\n${packed.stderr}`);
  assert.equal(packed.stdout.trim().split('\n').at(-1), tarballName);
  // `npm install ../lock-socket/<tarball>` from a new project beside the clone.
  app = join(work, 'my-app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'my-app', version: '1.0.0', private: true, type: 'module' }));
  const installed = run('npm', ['install', '--offline', '--no-audit', '--no-fund', `../lock-socket/${tarballName}`], app);
  assert.equal(installed.status, 0, `${installed.stdout}\n${installed.stderr}`);
  installLog = `${installed.stdout}\n${installed.stderr}`;
});

test('docs/install.md documents exactly the commands run here, with this version\'s tarball', () => {
  assert.deepEqual(documentedCommands(), [
    'git clone <repository-url> lock-socket',
    'cd lock-socket',
    'npm ci --ignore-scripts',
    'npm pack',
    'cd ../my-app',
    `npm install ../lock-socket/${tarballName}`,
  ]);
});

test('installing the tarball runs no install script and prints no install-script warning', () => {
  assert.doesNotMatch(installLog, /install[- ]script/i);
  const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  assert.equal(manifest.dependencies['lock-socket'], `file:../lock-socket/${tarballName}`);
});

test('the installed package: both entry points by import and require, and solo --help', () => {
  const esm = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', "const a = await import('lock-socket'); const b = await import('lock-socket/main'); console.log(typeof a.lockSocket, typeof b.requestSingleInstance, b.LockSocketError === a.LockSocketError)"],
    { cwd: app, encoding: 'utf8' },
  );
  assert.equal(esm.status, 0, esm.stderr);
  assert.equal(esm.stdout.trim(), 'function function true');
  const cjs = spawnSync(
    process.execPath,
    ['-e', "const a = require('lock-socket'); const b = require('lock-socket/main'); console.log(typeof a.lockSocket, typeof b.requestSingleInstance, b.LockSocketError === a.LockSocketError)"],
    { cwd: app, encoding: 'utf8' },
  );
  assert.equal(cjs.status, 0, cjs.stderr);
  assert.equal(cjs.stdout.trim(), 'function function true');
  // The bin link npm made, run by this Node (its shebang would pick whatever `node` is on PATH).
  const solo = spawnSync(process.execPath, [join(app, 'node_modules', '.bin', 'solo'), '--help'], { cwd: app, encoding: 'utf8' });
  assert.equal(solo.status, 0, solo.stderr);
  assert.match(solo.stdout, /^Usage: solo /);
});

/** A consumer that uses both entry points, values and types, and meets the type-only exports. */
const CONSUMER = `
import { LockSocketError, lockSocket, type LockSocketErrorCode } from 'lock-socket';
import { defaults, requestSingleInstance, type Launch, type LaunchReply, type SingleInstance, type SingleInstanceOptions } from 'lock-socket/main';
import { SingleInstance as SingleInstanceExport } from 'lock-socket/main';
// @ts-expect-error validatePort is not part of the API
import { validatePort } from 'lock-socket';
// @ts-expect-error nor are the DEFAULT_* constants (see defaults)
import { DEFAULT_REPLY_TIMEOUT_MS } from 'lock-socket/main';

export async function consumer(): Promise<LaunchReply | undefined> {
  const options: SingleInstanceOptions = { appId: 'com.example.app', replyTimeout: defaults.replyTimeout * 2 };
  // @ts-expect-error defaults is read-only
  defaults.replyTimeout = 1;
  const instance: SingleInstance = await requestSingleInstance(options);
  // @ts-expect-error SingleInstance is exported as a type (no new, no instanceof): instances come from requestSingleInstance
  void SingleInstanceExport;
  instance.on('second-instance', (launch: Launch, reply) => reply({ exitCode: launch.argv.length > 0 ? 0 : 1 }));
  try {
    const lock = await lockSocket(27182);
    await lock.unlock();
  } catch (error) {
    if (error instanceof LockSocketError) {
      const code: LockSocketErrorCode = error.code;
      void code;
    }
  }
  void [validatePort, DEFAULT_REPLY_TIMEOUT_MS];
  return instance.reply;
}
`;

interface Consumer {
  name: string;
  file: string;
  options: Record<string, unknown>;
  compilers: string[];
}

// The lowest supported versions (docs/install.md, "Requirements") and the repository's own.
const CONSUMERS: Consumer[] = [
  { name: 'ES module, nodenext', file: 'esm.ts', options: { module: 'nodenext', moduleResolution: 'nodenext' }, compilers: ['typescript-lowest', 'typescript'] },
  { name: 'bundler', file: 'bundler.ts', options: { module: 'esnext', moduleResolution: 'bundler' }, compilers: ['typescript-lowest', 'typescript'] },
  { name: 'CommonJS, nodenext', file: 'cjs.cts', options: { module: 'nodenext', moduleResolution: 'nodenext' }, compilers: ['typescript-cjs-lowest', 'typescript'] },
];

function tscOf(compiler: string): string {
  return join(dirname(require.resolve(`${compiler}/package.json`)), 'bin', 'tsc');
}

test('TypeScript consumers compile against the installed package with the lowest supported versions, strict, without skipLibCheck', (t) => {
  // @types/node at the lowest supported version, as the consumer's own.
  const types = join(app, 'node_modules', '@types');
  mkdirSync(types, { recursive: true });
  symlinkSync(dirname(require.resolve('@types/node-lowest/package.json')), join(types, 'node'), 'dir');
  const versions: string[] = [];
  for (const consumer of CONSUMERS) {
    const dir = join(app, consumer.file.replace(/\.c?ts$/, ''));
    mkdirSync(dir);
    writeFileSync(join(dir, consumer.file), CONSUMER);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { ...consumer.options, target: 'ES2022', lib: ['ES2022'], strict: true, skipLibCheck: false, noEmit: true, types: ['node'] },
        files: [consumer.file],
      }),
    );
    for (const compiler of consumer.compilers) {
      const tsc = spawnSync(process.execPath, [tscOf(compiler), '-p', dir], { encoding: 'utf8', timeout: 120_000 });
      const version = (JSON.parse(readFileSync(join(dirname(require.resolve(`${compiler}/package.json`)), 'package.json'), 'utf8')) as { version: string }).version;
      versions.push(`${consumer.name} on ${version}`);
      assert.equal(tsc.status, 0, `${consumer.name} on TypeScript ${version}:\n${tsc.stdout}${tsc.stderr}`);
    }
  }
  t.diagnostic(versions.join('; '));
});
