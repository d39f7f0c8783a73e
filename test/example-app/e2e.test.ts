/**
 * The example app with the real Electron binary, in the shape of Electron's own
 * requestSingleInstanceLock spec: a first instance prints `started`; a second one with extra
 * arguments exits with the holder's code and prints its answer; the first received exactly those
 * arguments, its cwd and data; then it quits cleanly on request.
 *
 * Where the Electron binary is missing (it is downloaded lazily and cannot be here) the Electron
 * tests skip and say why. Nothing here calls require('electron') before checking, because that
 * call itself would try to download the binary.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { portsFor } from '../helpers/ports.js';

const { port } = portsFor(import.meta.url);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const appDir = join(root, 'example-app');
const require = createRequire(import.meta.url);

/**
 * The Electron executable, or why there is none: where the electron package's index.js would
 * look (ELECTRON_OVERRIDE_DIST_PATH first, then dist/ per path.txt), without running index.js,
 * which downloads a missing binary.
 */
function findElectron(): { path: string } | { skip: string } {
  let pkgDir: string;
  try {
    pkgDir = dirname(require.resolve('electron/package.json'));
  } catch {
    return { skip: 'the electron package is not installed' };
  }
  const pathFile = join(pkgDir, 'path.txt');
  const executable = existsSync(pathFile) ? readFileSync(pathFile, 'utf8') : undefined;
  const override = process.env['ELECTRON_OVERRIDE_DIST_PATH'];
  if (override) {
    const path = join(override, executable ?? (process.platform === 'win32' ? 'electron.exe' : 'electron'));
    return existsSync(path) ? { path } : { skip: `no Electron binary at ${path} (ELECTRON_OVERRIDE_DIST_PATH)` };
  }
  if (executable === undefined) return { skip: `no Electron binary (${pathFile} missing: the lazy download never ran)` };
  const path = join(pkgDir, 'dist', executable);
  if (!existsSync(path)) return { skip: `no Electron binary at ${path}` };
  return { path };
}

/** How to run a GUI process here: directly, or under xvfb-run on a Linux without a display. */
function display(): { prefix: string[] } | { skip: string } {
  if (process.platform !== 'linux' || process.env['DISPLAY'] || process.env['WAYLAND_DISPLAY']) return { prefix: [] };
  const probe = spawnSync('xvfb-run', ['--help'], { stdio: 'ignore' });
  if (probe.error) return { skip: 'Linux without DISPLAY and no xvfb-run (apt-get install xvfb)' };
  return { prefix: ['xvfb-run', '--auto-servernum'] };
}

const electron = findElectron();
const screen = display();
const skip = 'skip' in electron ? electron.skip : 'skip' in screen ? screen.skip : undefined;
if (skip) console.log(`# example-app e2e: skipped, ${skip}`);

// The real path: on macOS tmpdir() is under /var, a link to /private/var, and the app's
// process.cwd() reports the latter.
const secretDir = realpathSync(mkdtempSync(join(tmpdir(), 'lock-socket-e2e-')));
const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) stop(child);
  rmSync(secretDir, { recursive: true, force: true });
});

/**
 * Kills a started app. Under xvfb-run the child is that shell script: killing it alone would
 * orphan Electron (and Xvfb), so each app runs in its own process group and the group is killed.
 */
function stop(child: ChildProcess): void {
  try {
    if (process.platform !== 'win32' && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    // already gone
  }
}

interface App {
  child: ChildProcess;
  events: Array<Record<string, unknown>>;
  text: string[];
  event(name: string): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

function startApp(args: string[], cwd: string): App {
  if (!('path' in electron) || !('prefix' in screen)) throw new Error('unreachable: skipped');
  // Linux: Chromium's sandbox aborts as root, and for everyone on Ubuntu ≥ 23.10, whose AppArmor
  // forbids the unprivileged user namespaces it needs (unless the binary has a profile).
  const sandbox = process.platform === 'linux' ? ['--no-sandbox'] : [];
  const [cmd, ...pre] = [...screen.prefix, electron.path, appDir, ...sandbox, ...args];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOCK_SOCKET_EXAMPLE_TEST: '1',
    LOCK_SOCKET_EXAMPLE_PORT: String(port(0)),
    LOCK_SOCKET_EXAMPLE_SECRET_DIR: secretDir,
  };
  // Any value turns Chromium's logging on, the empty string included: absent is off.
  delete env['ELECTRON_ENABLE_LOGGING'];
  const child = spawn(cmd!, pre, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: process.platform !== 'win32' });
  children.add(child);
  const events: Array<Record<string, unknown>> = [];
  const text: string[] = [];
  const waiting: Array<{ name: string; resolve: (e: Record<string, unknown>) => void }> = [];
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let parsed: Record<string, unknown> | undefined;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        text.push(line);
        continue;
      }
      events.push(parsed);
      for (const w of waiting.filter((w) => w.name === parsed!['event'])) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(parsed);
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => text.push(chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return {
    child,
    events,
    text,
    exited,
    event(name) {
      const found = events.find((e) => e['event'] === name);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        waiting.push({ name, resolve });
        void exited.then(() => reject(new Error(`app exited before "${name}": ${JSON.stringify(events)}\n${text.join('')}`)));
      });
    },
  };
}

describe('example-app', () => {
  test('electron-builder accepts the packaging config (its own schema validation)', async () => {
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
      validateConfiguration(config: unknown, logger: unknown): Promise<void>;
    };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    const config = JSON.parse(readFileSync(join(appDir, 'electron-builder.json'), 'utf8')) as Record<string, unknown>;
    await validateConfiguration(config, new DebugLogger(false));
    assert.deepEqual(config['protocols'], [{ name: 'lock-socket example link', schemes: ['lock-socket-example'] }]);
    await assert.rejects(validateConfiguration({ ...config, notAnOption: true }, new DebugLogger(false)));
  });

  test('holder and a forwarded launch with the real Electron binary', { skip: skip ?? false, timeout: 120_000 }, async () => {
    const first = startApp([], root);
    const started = await first.event('started');
    assert.equal(started['port'], port(0));

    // The URL last: on Windows a URL argument followed by another one ends Electron before any
    // JavaScript runs (CVE-2018-1000006 guard); the OS itself always puts the URL last.
    const extra = ['--some', 'two words', '', 'ünïcödé', 'lock-socket-example://open?id=42'];
    const second = startApp(extra, secretDir);
    assert.equal(await second.exited, 0);
    assert.ok(second.text.some((l) => l.includes('opened lock-socket-example://open?id=42')), second.text.join('\n'));
    assert.equal(second.events.find((e) => e['event'] === 'started'), undefined, 'the second instance never starts a window');

    const received = await first.event('second-instance');
    const argv = received['argv'] as string[];
    // Our own arguments arrive in order and byte-exact at the end (Electron's built-in reorders them).
    assert.deepEqual(argv.slice(-extra.length), extra);
    assert.equal(received['cwd'], secretDir);
    assert.equal(typeof (received['data'] as { launchedAt?: unknown }).launchedAt, 'string');
    assert.equal(received['deepLink'], 'lock-socket-example://open?id=42');

    const quitter = startApp(['--quit'], root);
    assert.equal(await quitter.exited, 0);
    await first.event('will-quit');
    assert.equal(await first.exited, 0);
  });
});
