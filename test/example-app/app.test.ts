/**
 * example-app as it really starts, under the stand-in Electron runtime (fixtures/electron-runtime.ts:
 * the entry evaluated completely before `ready`, `app.exit()` ends the process, a loop that never
 * runs dry), once with its ES module main (package.json `main`) and once with its CommonJS main.
 * The shape of Electron's own single-instance spec: a holder prints `started`; a second launch
 * hands over and exits with the holder's code, never opening a window; `--quit` ends the holder.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { portsFor } from '../helpers/ports.js';
import { privateDir } from '../helpers/dirs.js';
import { Child, fixture, killAll, type Line } from '../helpers/child.js';

const { port } = portsFor(import.meta.url);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const appDir = join(root, 'example-app');
const runtime = fixture('electron-runtime');
const secretDir = privateDir('lock-socket-example-');
after(() => killAll());

function start(target: string, p: number, args: string[] = [], cwd = root): Child {
  return new Child([runtime, target, ...args], {
    cwd,
    env: {
      ...process.env,
      LOCK_SOCKET_EXAMPLE_TEST: '1',
      LOCK_SOCKET_EXAMPLE_PORT: String(p),
      LOCK_SOCKET_EXAMPLE_SECRET_DIR: secretDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

const standIn = (child: Child, what: string): Line[] => child.lines.filter((l) => l['standIn'] === what);
const text = (child: Child): string[] => [...child.lines.filter((l) => l.event === 'text').map((l) => l['text'] as string), ...child.stderr.split('\n')];

const variants = [
  { name: 'ES module main (package.json main)', target: appDir, esm: true, first: 0 },
  { name: 'CommonJS main', target: join(appDir, 'dist', 'main-cjs.cjs'), esm: false, first: 10 },
];

for (const variant of variants) {
  describe(`example-app, ${variant.name}, under the stand-in runtime`, () => {
    test('the first launch opens its window (preload and page exist); a second hands over without one; --quit ends the holder', async () => {
      const p = port(variant.first);
      const holder = start(variant.target, p);
      try {
        const started = await holder.find((l) => l.event === 'started');
        assert.equal(started['port'], p);
        assert.deepEqual(standIn(holder, 'loaded'), [{ standIn: 'loaded', esm: variant.esm }]);
        const [win] = standIn(holder, 'window');
        assert.ok(win, 'a window was made');
        assert.equal(win['show'], false, 'hidden in test mode');
        assert.match(String(win['preload']), /[\\/]dist[\\/]preload\.cjs$/);
        assert.equal(win['preloadExists'], true);
        const [load] = standIn(holder, 'load');
        assert.equal(load?.['page'], join(appDir, 'index.html'));
        assert.deepEqual(load?.['scriptsExist'], [true], 'the page finds its renderer script');

        // The URL comes last, as the OS puts it (see the Windows guard in stand-in.test.ts).
        const extra = ['--some', 'two words', '', 'ünïcödé', 'lock-socket-example://open?id=42'];
        const second = start(variant.target, p, extra, secretDir);
        assert.deepEqual(await second.exit(), { code: 0, signal: null });
        await second.closed;
        assert.ok(text(second).some((l) => l.includes('opened lock-socket-example://open?id=42')), text(second).join('\n'));
        assert.deepEqual(standIn(second, 'window'), [], 'the second launch never opens a window');
        assert.deepEqual(standIn(second, 'exit'), [{ standIn: 'exit', code: 0, ready: true }], 'it ended at ready, not before');
        assert.equal(second.events('started').length, 0);

        const received = await holder.find((l) => l.event === 'second-instance');
        assert.deepEqual((received['argv'] as string[]).slice(-extra.length), extra);
        assert.equal(received['cwd'], secretDir);
        assert.equal(typeof (received['data'] as { launchedAt?: unknown }).launchedAt, 'string');
        assert.equal(received['deepLink'], 'lock-socket-example://open?id=42');
        await holder.find((l) => l['standIn'] === 'window-focus');

        const quitter = start(variant.target, p, ['--quit']);
        assert.equal((await quitter.exit()).code, 0);
        await holder.find((l) => l.event === 'will-quit');
        assert.deepEqual(await holder.exit(), { code: 0, signal: null });
        assert.deepEqual(standIn(holder, 'errorBox'), []);
      } finally {
        holder.kill();
      }
    });

    test("a rejected lock request ends the app with solo's exit code (75 for a foreign holder), without a window or an error box", async () => {
      const p = port(variant.first + 1);
      const foreign = createServer((socket) => socket.destroy());
      // The app's default address is per user; as root (and on macOS) that is 127.0.0.1.
      await new Promise<void>((resolve) => foreign.listen(p, resolve));
      try {
        const app = start(variant.target, p);
        assert.deepEqual(await app.exit(), { code: 75, signal: null });
        await app.closed;
        assert.ok(text(app).some((l) => l.startsWith('lock-socket: EFOREIGN: ')), text(app).join('\n'));
        // ESM: the rejection reaches main's catch, then the app ends at ready. CommonJS: the app
        // was ready already, so it ended at once, before anything could catch.
        assert.deepEqual(app.events('lock-failed').map((l) => l['code']), variant.esm ? ['EFOREIGN'] : []);
        assert.deepEqual(standIn(app, 'window'), []);
        assert.deepEqual(standIn(app, 'errorBox'), []);
        assert.deepEqual(standIn(app, 'exit'), [{ standIn: 'exit', code: 75, ready: true }]);
      } finally {
        foreign.close();
      }
    });
  });
}
