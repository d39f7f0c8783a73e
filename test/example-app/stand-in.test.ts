/**
 * The stand-in Electron runtime itself: each behaviour it claims to model (see
 * fixtures/electron-runtime.ts for the sources), checked on tiny apps, several of them ports of
 * Electron's own spec fixtures (spec/esm-spec.ts). If the stand-in drifted into a plain
 * EventEmitter, the example-app tests would prove nothing; these fail first.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, fixture, killAll } from '../helpers/child.js';

const runtime = fixture('electron-runtime');
// Inside the checkout, so that require('electron') resolves to the electron package there, as
// it does for any Electron project.
const dir = mkdtempSync(join(fileURLToPath(new URL('..', import.meta.url)), 'stand-in-apps-'));
after(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** Writes `source` as an app file and runs it: `name` decides ESM (.mjs) or CommonJS (.cjs). */
async function run(name: string, source: string, args: string[] = [], env: Record<string, string> = {}): Promise<{ code: number | null; lines: Record<string, unknown>[]; stderr: string }> {
  const file = join(dir, name);
  writeFileSync(file, source);
  const child = new Child([runtime, file, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exit = await child.exit();
  await child.closed;
  return { code: exit.code, lines: child.lines, stderr: child.stderr };
}

const say = `const say = (v) => process.stdout.write(JSON.stringify(v) + '\\n');`;

describe('the stand-in Electron runtime', () => {
  test("an ES module entry is evaluated completely, top-level await included, before ready (esm-spec: 'Top level await, ready: false')", async () => {
    const r = await run(
      'tla.mjs',
      `import { app } from 'electron'; ${say}
      await new Promise((resolve) => setTimeout(resolve, 50));
      say({ tla: app.isReady() });
      app.on('ready', () => { say({ readyEvent: true }); app.exit(0); });`,
    );
    assert.equal(r.code, 0);
    assert.deepEqual(r.lines.filter((l) => 'tla' in l || 'readyEvent' in l), [{ tla: false }, { readyEvent: true }]);
  });

  test('awaiting whenReady() at the top level of an ES module entry waits for ever (the deadlock example-app had)', async () => {
    // Whatever the machine's speed, the timer fires while the entry is still evaluating: ready
    // can only come after it, and it waits for ready.
    const r = await run(
      'deadlock.mjs',
      `import { app } from 'electron'; ${say}
      setTimeout(() => { say({ readyYet: app.isReady() }); app.exit(9); }, 200);
      await app.whenReady();
      say({ unreachable: true });`,
    );
    assert.equal(r.code, 9);
    assert.deepEqual(r.lines.find((l) => 'readyYet' in l), { readyYet: false });
    assert.deepEqual(r.lines.filter((l) => 'unreachable' in l || l['standIn'] === 'loaded'), []);
  });

  test('a CommonJS entry gets the same app from require, and ready comes before a pending asynchronous answer', async () => {
    const r = await run(
      'main.cjs',
      `const { app } = require('electron'); ${say}
      new Promise((resolve) => setTimeout(resolve, 20)).then(() => { say({ lockAnswered: app.isReady() }); app.exit(3); });`,
    );
    assert.equal(r.code, 3);
    assert.deepEqual(r.lines.find((l) => 'lockAnswered' in l), { lockAnswered: true });
  });

  test('app.exit() ends the process at once, before ready too; whenReady().then runs after every ready listener', async () => {
    const early = await run('exit.mjs', `import { app } from 'electron'; ${say} app.exit(7); say({ after: true });`);
    assert.equal(early.code, 7);
    assert.deepEqual(early.lines.filter((l) => 'after' in l), []);
    assert.deepEqual(early.lines.find((l) => l['standIn'] === 'exit'), { standIn: 'exit', code: 7, ready: false });

    const order = await run(
      'order.mjs',
      `import { app } from 'electron'; ${say}
      app.whenReady().then(() => { say({ step: 'whenReady' }); app.exit(0); });
      app.on('ready', () => say({ step: 'ready listener' }));`,
    );
    assert.deepEqual(order.lines.filter((l) => 'step' in l), [{ step: 'ready listener' }, { step: 'whenReady' }]);
  });

  test('the loop never runs dry: an app that does nothing runs until app.quit()', async () => {
    const r = await run(
      'idle.mjs',
      `import { app } from 'electron'; ${say}
      app.on('will-quit', (event) => say({ willQuit: event.defaultPrevented }));
      // Nothing is pending after this timer: plain Node would exit here with 0 and no quit.
      setTimeout(() => app.quit(), 30);`,
    );
    assert.equal(r.code, 0);
    assert.ok(r.lines.some((l) => l['standIn'] === 'quit'), JSON.stringify(r.lines));
    assert.deepEqual(r.lines.find((l) => 'willQuit' in l), { willQuit: false });
  });

  test('defaultPrevented is a getter: assigning it throws in strict code, preventDefault() cancels the quit', async () => {
    const r = await run(
      'prevent.mjs',
      `import { app } from 'electron'; ${say}
      let first = true;
      app.on('will-quit', (event) => {
        if (!first) return;
        first = false;
        try { event.defaultPrevented = true; } catch (error) { say({ assign: error.constructor.name }); }
        event.preventDefault();
        say({ prevented: event.defaultPrevented });
        setTimeout(() => app.quit(), 10);
      });
      app.whenReady().then(() => app.quit());`,
    );
    assert.equal(r.code, 0);
    assert.deepEqual(r.lines.filter((l) => 'assign' in l || 'prevented' in l), [{ assign: 'TypeError' }, { prevented: true }]);
    assert.equal(r.lines.filter((l) => l['standIn'] === 'quit').length, 1, 'the first quit was cancelled');
  });

  test('a window before ready throws; an uncaught error shows an error box and the app keeps running', async () => {
    const r = await run(
      'early-window.mjs',
      `import { app, BrowserWindow } from 'electron'; ${say}
      app.on('ready', () => { say({ stillRunning: true }); app.exit(0); });
      new BrowserWindow();`,
    );
    assert.equal(r.code, 0);
    const box = r.lines.find((l) => l['standIn'] === 'errorBox');
    assert.match(String(box?.['content']), /Cannot create BrowserWindow before app is ready/);
    assert.ok(r.lines.some((l) => 'stillRunning' in l));
  });

  test('@electron/remote/main loads and initializes (it looks up electron_common_v8_util), which plain Node cannot', async () => {
    const remote = createRequire(import.meta.url).resolve('@electron/remote/main');
    // What @electron/remote asks for at load, in plain Node. (Not require('@electron/remote/main')
    // itself here: its require('electron') would reach the npm package, which starts a download.)
    const linked = (process as unknown as { _linkedBinding: (name: string) => unknown })._linkedBinding;
    assert.throws(() => linked.call(process, 'electron_common_v8_util'), /No such binding/);
    const r = await run(
      'remote.cjs',
      `const { app } = require('electron'); ${say}
      const remoteMain = require(${JSON.stringify(remote)});
      remoteMain.initialize();
      say({ remote: typeof remoteMain.enable });
      app.exit(0);`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.lines.find((l) => 'remote' in l), { remote: 'function' });
  });

  test('Windows: a URL argument followed by another argument ends the process before any JavaScript (CVE-2018-1000006 guard)', async () => {
    const source = `import { app } from 'electron'; ${say} say({ ran: process.argv.slice(2) }); app.exit(0);`;
    const win32 = { LOCK_SOCKET_STANDIN_PLATFORM: 'win32' };
    const blocked = await run('guard.mjs', source, ['myapp://open', 'file.txt'], win32);
    assert.equal(blocked.code, 255); // -1: 4294967295 on Windows
    assert.deepEqual(blocked.lines.filter((l) => 'ran' in l), []);
    for (const args of [['file.txt', 'myapp://open'], ['--', 'myapp://open', 'file.txt'], ['C:\\dir\\file.txt', 'x']]) {
      const ok = await run('guard.mjs', source, args, win32);
      assert.deepEqual(ok.lines.find((l) => 'ran' in l), { ran: args }, JSON.stringify(args));
    }
    const linux = await run('guard.mjs', source, ['myapp://open', 'file.txt'], { LOCK_SOCKET_STANDIN_PLATFORM: 'linux' });
    assert.deepEqual(linux.lines.find((l) => 'ran' in l), { ran: ['myapp://open', 'file.txt'] });
  });
});
