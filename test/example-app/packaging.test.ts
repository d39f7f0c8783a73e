/**
 * example-app packed by electron-builder's real pipeline (`--linux dir`), against a stand-in
 * Electron distribution (an `electronDist` folder with an `electron` file, `version`, the
 * licences; `electronVersion` set, so nothing is downloaded), then app.asar listed with
 * @electron/asar: every compiled file, the page, the library and @electron/remote must be in it.
 * This is what caught the missing preload (tsc emits preload.cjs; the old `files` took *.js) and
 * the build/ output folder (electron-builder's default buildResources, which it leaves out).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { privateDir } from '../helpers/dirs.js';
import { portsFor } from '../helpers/ports.js';
import { Child } from '../helpers/child.js';
import { requestSingleInstance } from '../../src/main/index.js';

const { port } = portsFor(import.meta.url);

const root = fileURLToPath(new URL('../../../', import.meta.url));
const appDir = join(root, 'example-app');
const require = createRequire(import.meta.url);
const ELECTRON_VERSION = (JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')) as { version: string }).version;

/** A folder shaped like an unpacked Electron for Linux, without Electron in it. */
function standInDist(dir: string): string {
  const dist = join(dir, 'electron-dist');
  mkdirSync(join(dist, 'resources'), { recursive: true });
  writeFileSync(join(dist, 'electron'), '#!/bin/sh\necho "stand-in: no Electron here" >&2\nexit 1\n');
  chmodSync(join(dist, 'electron'), 0o755);
  writeFileSync(join(dist, 'version'), ELECTRON_VERSION);
  copyFileSync(require.resolve('electron/LICENSE'), join(dist, 'LICENSE'));
  writeFileSync(join(dist, 'LICENSES.chromium.html'), '<!doctype html><title>stand-in</title>\n');
  return dist;
}

test('electron-builder --linux dir packs every compiled file, the page, lock-socket and @electron/remote into app.asar', { timeout: 120_000 }, async () => {
  const work = privateDir('lock-socket-pack-');
  const out = join(work, 'out');
  const builder = join(dirname(require.resolve('electron-builder/package.json')), 'cli.js');
  const result = spawnSync(
    process.execPath,
    [
      builder,
      '--linux',
      'dir',
      '--config',
      'electron-builder.json',
      `-c.electronDist=${standInDist(work)}`,
      `-c.electronVersion=${ELECTRON_VERSION}`,
      `-c.directories.output=${out}`,
      '-c.npmRebuild=false', // nothing native to rebuild, and a rebuild would fetch Electron's headers
    ],
    { cwd: appDir, encoding: 'utf8', env: { ...process.env, CI: 'true' } },
  );
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);

  const unpacked = join(out, 'linux-unpacked');
  assert.ok(readdirSync(unpacked).includes('lock-socket-example'), 'the executable is named by executableName');
  const asar = require('@electron/asar') as { listPackage(path: string, options?: unknown): string[] };
  const listed = new Set(asar.listPackage(join(unpacked, 'resources', 'app.asar')).map((p) => p.split('\\').join('/')));

  const compiled = readdirSync(join(appDir, 'dist')).filter((f) => /\.c?js$/.test(f));
  assert.ok(compiled.includes('preload.cjs') && compiled.includes('main.js') && compiled.includes('main-cjs.cjs'), compiled.join());
  const expected = [
    ...compiled.map((f) => `/dist/${f}`),
    '/index.html',
    '/package.json',
    '/node_modules/lock-socket/package.json',
    '/node_modules/lock-socket/dist/pkg/main.js',
    '/node_modules/lock-socket/dist/pkg/index.js',
    '/node_modules/@electron/remote/package.json',
    '/node_modules/@electron/remote/main/index.js',
    '/node_modules/@electron/remote/dist/src/main/server.js',
  ];
  assert.deepEqual(expected.filter((p) => !listed.has(p)), [], 'missing from app.asar');
  // The page's own scripts, as the renderer will ask for them.
  const html = readFileSync(join(appDir, 'index.html'), 'utf8');
  for (const [, src] of html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)) assert.ok(listed.has(`/${src}`), `${src} is packed`);
  // The entry Electron will load is in it, and the library ships as published, not as a checkout.
  const pkg = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as { main: string };
  assert.ok(listed.has(`/${pkg.main}`));
  assert.deepEqual([...listed].filter((p) => /^\/node_modules\/lock-socket\/(src|test|bench|example-app|dist\/test)\b/.test(p)), []);

  // The command line: its wrappers in resources/bin, and what they run unpacked from app.asar, so
  // that the binary in Node mode loads it as plain files (docs/cli.md).
  const resources = join(unpacked, 'resources');
  for (const file of ['dist/cli.js', 'dist/config.js', 'node_modules/lock-socket/package.json', 'node_modules/lock-socket/dist/pkg/main.js']) {
    assert.ok(existsSync(join(resources, 'app.asar.unpacked', file)), `${file} is unpacked`);
  }
  const sh = join(resources, 'bin', 'lock-socket-example');
  assert.ok(statSync(sh).mode & 0o111, 'the shell wrapper is executable');
  assert.match(readFileSync(sh, 'utf8'), /ELECTRON_RUN_AS_NODE=1 exec/);
  assert.match(readFileSync(join(resources, 'bin', 'lock-socket-example.cmd'), 'utf8'), /set ELECTRON_RUN_AS_NODE=1/);
  // The packed command line runs from where it was unpacked (node standing in for the binary in
  // Node mode): it finds lock-socket and its config there, and reaches a running instance.
  await using holder = await requestSingleInstance({ appId: 'com.example.lock-socket', port: port(0), addr: '127.0.0.1', secretDir: work });
  holder.on('second-instance', (launch, reply) => reply({ exitCode: 0, message: `packed cli: ${launch.argv.slice(1).join(' ')}` }));
  // (Not spawnSync: the holder is in this process and must answer while the command runs.)
  const run = new Child([sh, 'hello'], {
    command: 'sh',
    env: { ...process.env, LOCK_SOCKET_EXAMPLE_ELECTRON: process.execPath, LOCK_SOCKET_EXAMPLE_PORT: String(port(0)), LOCK_SOCKET_EXAMPLE_SECRET_DIR: work },
  });
  run.endInput();
  assert.equal((await run.closed).code, 0, run.stderr);
  assert.deepEqual(run.lines, [{ event: 'text', text: 'packed cli: hello' }]);
  // The deb links /usr/bin/<executable> to the wrapper (electron-builder fills in the names).
  const config = JSON.parse(readFileSync(join(appDir, 'electron-builder.json'), 'utf8')) as { deb: { afterInstall: string; afterRemove: string } };
  assert.match(readFileSync(join(appDir, config.deb.afterInstall), 'utf8'), /'\/usr\/bin\/\$\{executable\}' '\$\{executable\}' '\/opt\/\$\{sanitizedProductName\}\/resources\/bin\/\$\{executable\}'/);
  assert.match(readFileSync(join(appDir, config.deb.afterRemove), 'utf8'), /--remove '\$\{executable\}' '\/opt\/\$\{sanitizedProductName\}\/resources\/bin\/\$\{executable\}'/);
});
