import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  defaultSecretDir,
  findOrCreateSecret,
  fnv1a64,
  loadOrCreateSecret,
  secretDirCandidates,
  secretFollower,
  secretPath,
  SECRET_DIR_NAME,
} from '../../src/main/secret.js';
import type { SecretDirCandidate } from '../../src/main/secret.js';
import { SECRET_BYTES } from '../../src/main/constants.js';
import { nobodySkip } from '../helpers/nobody.js';
import { portsFor } from '../helpers/ports.js';
import { rejectsWith, throwsWith } from '../helpers/errors.js';

const pathFixture = fileURLToPath(new URL('../fixtures/secret-path.js', import.meta.url));
const loadFixture = fileURLToPath(new URL('../fixtures/secret-load.js', import.meta.url));
const SOLO = fileURLToPath(new URL('../../src/cli/solo.js', import.meta.url));
const { port } = portsFor(import.meta.url);
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const children = new Set<ChildProcess>();

let root: string;
before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'lock-socket-secret-'));
});
after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await fs.rm(root, { recursive: true, force: true });
});

let counter = 0;
/** A fresh, not yet existing directory path under the test's temp root. */
function freshDir(): string {
  return path.join(root, `d${counter++}`);
}

/** Runs a fixture, collecting stdout; resolves with it when the process exits. */
function run(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number } = {},
): { child: ChildProcess; done: Promise<string> } {
  const child = spawn(process.execPath, [file, ...args], { ...options, cwd: '/', stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const done = new Promise<string>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`fixture hung: ${out}`)), 20_000).unref();
    child.on('error', reject);
    // 'close', not 'exit': a process can exit before its last line has been read from the pipe.
    child.on('close', (code) => {
      clearTimeout(guard);
      children.delete(child);
      if (code === 0) resolve(out);
      else reject(new Error(`fixture exited with ${code}: ${out}`));
    });
  });
  return { child, done };
}

function lastJson(out: string): { hex?: string; code?: string; message?: string; raw?: string; where?: string } {
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!);
}

describe('defaultSecretDir and secretPath', () => {
  test('is a pure function of platform and home', () => {
    assert.equal(defaultSecretDir({ platform: 'linux', homedir: '/home/ann' }), '/home/ann/.lock-socket');
    assert.equal(defaultSecretDir({ platform: 'freebsd', homedir: '/usr/home/ann' }), '/usr/home/ann/.lock-socket');
    assert.equal(
      defaultSecretDir({ platform: 'darwin', homedir: '/Users/ann' }),
      '/Users/ann/Library/Application Support/lock-socket',
    );
    assert.equal(
      defaultSecretDir({ platform: 'win32', homedir: 'C:\\Users\\ann', localAppData: 'D:\\Local' }),
      'D:\\Local\\lock-socket',
    );
    assert.equal(
      defaultSecretDir({ platform: 'win32', homedir: 'C:\\Users\\ann' }),
      'C:\\Users\\ann\\AppData\\Local\\lock-socket',
    );
    assert.equal(SECRET_DIR_NAME, 'lock-socket');
  });

  test('defaults to the password database home, not $HOME', () => {
    const expected = path.join(os.userInfo().homedir, '.lock-socket');
    if (process.platform === 'linux') assert.equal(defaultSecretDir(), expected);
    assert.equal(path.dirname(secretPath('com.x')), defaultSecretDir());
  });

  test('is identical from any environment (HOME, XDG_RUNTIME_DIR, an almost empty env)', async () => {
    const envs: NodeJS.ProcessEnv[] = [
      { ...process.env },
      { ...process.env, HOME: '/tmp/elsewhere', USER: 'nobody', LOGNAME: 'nobody' },
      { ...process.env, XDG_RUNTIME_DIR: '/run/user/4242', XDG_CONFIG_HOME: '/tmp/cfg', XDG_DATA_HOME: '/tmp/data' },
      { PATH: '/usr/bin:/bin' },
      {},
    ];
    delete envs[0]!['XDG_RUNTIME_DIR'];
    const outs = await Promise.all(envs.map((env) => run(pathFixture, ['com.x'], { env }).done));
    const expected = `${secretPath('com.x')}\n`;
    for (const out of outs) assert.equal(out, expected);
  });

  test('the hash in the file name is FNV-1a 64 over the UTF-8 bytes (published test vectors)', () => {
    assert.equal(fnv1a64(''), 'cbf29ce484222325');
    assert.equal(fnv1a64('a'), 'af63dc4c8601ec8c');
    assert.equal(fnv1a64('foobar'), '85944171f73967e8');
    assert.ok(secretPath('com.example.app', '/d').endsWith(`-${fnv1a64('com.example.app')}.key`));
  });

  test('file names are readable slugs plus a hash and never leave the directory', () => {
    const dir = '/srv/secrets';
    const ids = ['com.example.app', '../../etc/passwd', 'a/b', 'a_b', 'a\\b', 'a\0b', '', '.', '..', '日本語', 'Com.Example.App', 'x'.repeat(1000), 'x'.repeat(1001)];
    const names = new Set<string>();
    for (const id of ids) {
      const file = secretPath(id, dir);
      assert.equal(path.dirname(file), dir, id);
      const name = path.basename(file);
      assert.match(name, /^[a-z0-9][a-z0-9._-]{0,47}-[0-9a-f]{16}\.key$/, JSON.stringify(id));
      names.add(name);
    }
    assert.equal(names.size, ids.length, 'two appIds share a file');
    assert.match(path.basename(secretPath('com.example.app', dir)), /^com\.example\.app-[0-9a-f]{16}\.key$/);
  });
});

describe('secretFollower (the holder\'s view)', () => {
  test('follows the file: the same secret while unchanged, the new one after a rewrite or a re-creation', async () => {
    const dir = freshDir();
    const follow = secretFollower('com.follow', dir);
    const first = follow();
    assert.equal(first.length, SECRET_BYTES);
    assert.deepEqual(follow(), first);
    assert.deepEqual(await loadOrCreateSecret('com.follow', dir), first, 'it created the file the others read');
    const file = secretPath('com.follow', dir);
    const rewritten = Buffer.alloc(SECRET_BYTES, 7);
    await new Promise((r) => setTimeout(r, 5)); // a later mtime, even on coarse clocks
    await fs.writeFile(file, rewritten); // same inode, same size: only the times change
    assert.deepEqual(follow(), rewritten);
    await fs.rm(file);
    const recreated = await loadOrCreateSecret('com.follow', dir);
    assert.notDeepEqual(recreated, rewritten);
    assert.deepEqual(follow(), recreated);
  });
});

describe('loadOrCreateSecret', () => {
  test('creates 32 private bytes in a private directory, then returns the same bytes', async () => {
    const dir = path.join(freshDir(), 'nested', 'lock-socket');
    const first = await loadOrCreateSecret('com.x', dir);
    assert.equal(first.length, SECRET_BYTES);
    assert.notDeepEqual(first, Buffer.alloc(SECRET_BYTES));
    const fileStat = await fs.stat(secretPath('com.x', dir));
    const dirStat = await fs.stat(dir);
    if (process.platform !== 'win32') {
      assert.equal(fileStat.mode & 0o777, 0o600);
      assert.equal(dirStat.mode & 0o777, 0o700);
    }
    assert.deepEqual(await loadOrCreateSecret('com.x', dir), first);
    assert.deepEqual(await fs.readFile(secretPath('com.x', dir)), first);
  });

  test('different appIds get different files and secrets; odd appIds stay inside the directory', async () => {
    const dir = freshDir();
    const ids = ['com.a', 'com.b', '../../etc/passwd', 'a/b', 'a_b', '', '日本語', 'y'.repeat(500)];
    const secrets = new Set<string>();
    for (const id of ids) secrets.add((await loadOrCreateSecret(id, dir)).toString('hex'));
    assert.equal(secrets.size, ids.length);
    const entries = await fs.readdir(dir);
    assert.equal(entries.length, ids.length);
    assert.ok(entries.every((name) => name.endsWith('.key')));
    await assert.rejects(fs.access(path.join(root, 'etc')));
  });

  test('12 processes racing to create the same secret all get the same one', async () => {
    const dir = freshDir();
    const runs = Array.from({ length: 12 }, () => run(loadFixture, ['com.race', dir, 'wait']));
    // Release them together, once every one is loaded and waiting.
    await Promise.all(
      runs.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            let seen = '';
            const onData = (chunk: Buffer): void => {
              seen += chunk.toString();
              if (seen.includes('ready\n')) {
                child.stdout!.off('data', onData);
                resolve();
              }
            };
            child.stdout!.on('data', onData);
          }),
      ),
    );
    for (const { child } of runs) child.stdin!.end('go\n');
    const results = (await Promise.all(runs.map((r) => r.done))).map(lastJson);
    const hexes = new Set(results.map((r) => r.hex));
    assert.equal(hexes.size, 1, JSON.stringify(results));
    const [hex] = hexes;
    assert.match(hex ?? '', /^[0-9a-f]{64}$/);
    assert.equal((await fs.readFile(secretPath('com.race', dir))).toString('hex'), hex);
    assert.deepEqual(await fs.readdir(dir), [path.basename(secretPath('com.race', dir))], 'temp files left behind');
  });
});

describe('refuses unsafe files and directories (ESECRET)', { skip: process.platform === 'win32' && 'POSIX only' }, () => {
  /** A private directory holding a valid-looking secret for appId, returning the file path. */
  async function plant(dir: string, appId = 'com.x', bytes = Buffer.alloc(SECRET_BYTES, 7), mode = 0o600): Promise<string> {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const file = secretPath(appId, dir);
    await fs.writeFile(file, bytes, { mode });
    await fs.chmod(file, mode);
    return file;
  }

  test('a plain valid file is accepted (the control for the cases below)', async () => {
    const dir = freshDir();
    await plant(dir);
    assert.deepEqual(await loadOrCreateSecret('com.x', dir), Buffer.alloc(SECRET_BYTES, 7));
  });

  test('a symlink at the file path; its target is neither read nor changed', async () => {
    const dir = freshDir();
    const target = await plant(freshDir(), 'com.x', Buffer.alloc(SECRET_BYTES, 9));
    await fs.mkdir(dir, { mode: 0o700 });
    await fs.symlink(target, secretPath('com.x', dir));
    await rejectsWith(loadOrCreateSecret('com.x', dir), 'ESECRET', /symlink/);
    assert.deepEqual(await fs.readFile(target), Buffer.alloc(SECRET_BYTES, 9));
    assert.ok((await fs.lstat(secretPath('com.x', dir))).isSymbolicLink());
  });

  test('a dangling symlink at the file path is not followed to create a file', async () => {
    const dir = freshDir();
    const target = path.join(freshDir(), 'planted');
    await fs.mkdir(path.dirname(target), { mode: 0o700 });
    await fs.mkdir(dir, { mode: 0o700 });
    await fs.symlink(target, secretPath('com.x', dir));
    await rejectsWith(loadOrCreateSecret('com.x', dir), 'ESECRET');
    await assert.rejects(fs.access(target));
  });

  test('the directory is a symlink (to an otherwise valid private directory)', async () => {
    const real = freshDir();
    await plant(real);
    const dir = freshDir();
    await fs.symlink(real, dir);
    await rejectsWith(loadOrCreateSecret('com.x', dir), 'ESECRET', /symlink/);
  });

  test('the directory has mode 0777, and is not silently chmod-ed', async () => {
    const dir = freshDir();
    await plant(dir);
    await fs.chmod(dir, 0o777);
    await rejectsWith(loadOrCreateSecret('com.x', dir), 'ESECRET', /0777.*chmod 700/);
    assert.equal((await fs.stat(dir)).mode & 0o777, 0o777);
  });

  test('the directory path is a regular file', async () => {
    const dir = freshDir();
    await fs.writeFile(dir, 'x');
    await rejectsWith(loadOrCreateSecret('com.x', dir), 'ESECRET', /not a directory/);
  });

  test('the file has mode 0644', async () => {
    const dir = freshDir();
    await plant(dir, 'com.x', undefined, 0o644);
    await rejectsWith(loadOrCreateSecret('com.x', dir), 'ESECRET', /0644/);
  });

  test('the file has the wrong size (31, 33 and 0 bytes)', async () => {
    for (const size of [31, 33, 0]) {
      const dir = freshDir();
      await plant(dir, 'com.x', Buffer.alloc(size, 1));
      await rejectsWith(loadOrCreateSecret('com.x', dir), 'ESECRET', new RegExp(`${size} bytes`));
    }
  });

  test('a FIFO at the file path fails at once instead of hanging', async () => {
    const dir = freshDir();
    await fs.mkdir(dir, { mode: 0o700 });
    execFileSync('mkfifo', ['-m', '600', secretPath('com.x', dir)]);
    // In a child: a blocking open() would pin a thread-pool thread for good, so the hang guard
    // of run() turns a regression into a failure instead of a stuck test run.
    assert.equal(lastJson(await run(loadFixture, ['com.x', dir]).done).code, 'ESECRET');
  });

  test('the file is owned by another user', { skip: !isRoot && 'needs root to chown' }, async () => {
    const dir = freshDir();
    const file = await plant(dir);
    await fs.chown(file, NOBODY, NOBODY);
    await rejectsWith(loadOrCreateSecret('com.x', dir), 'ESECRET', /owned by uid 65534/);
  });

  test('the directory is owned by another user', { skip: !isRoot && 'needs root to chown' }, async () => {
    const dir = freshDir();
    await plant(dir);
    await fs.chown(dir, NOBODY, NOBODY);
    await rejectsWith(loadOrCreateSecret('com.x', dir), 'ESECRET', /owned by uid 65534/);
  });

  test('another local user (nobody) cannot read our secret', { skip: nobodySkip() }, async () => {
    const dir = freshDir();
    const ours = await loadOrCreateSecret('com.x', dir);
    // Even with a traversable directory the file itself (0600) keeps them out.
    for (const dirMode of [0o700, 0o711]) {
      await fs.chmod(dir, dirMode);
      const out = await run(loadFixture, ['com.x', dir, 'raw'], { uid: NOBODY, gid: NOBODY, env: { PATH: '/usr/bin:/bin' } }).done;
      const result = lastJson(out);
      assert.equal(result.code, 'ESECRET', out);
      assert.equal(result.hex, undefined);
      assert.equal(result.raw, 'EACCES', out);
      assert.ok(!out.includes(ours.toString('hex')));
    }
    await fs.chmod(dir, 0o700);
    assert.deepEqual(await loadOrCreateSecret('com.x', dir), ours);
  });
});

describe('where the secret lives without a usable home (docs/secret.md)', { skip: process.platform === 'win32' && 'POSIX only' }, () => {
  test('the places, in order: home, /run/user/UID, $XDG_RUNTIME_DIR, /tmp/lock-socket-UID, $TMPDIR/lock-socket-UID', () => {
    const dirs = (input: Parameters<typeof secretDirCandidates>[0]) => secretDirCandidates(input).map((c) => `${c.kind} ${c.dir}`);
    const linux = { platform: 'linux', uid: 1000, homedir: '/home/ann' } as const;
    assert.deepEqual(dirs({ ...linux, runtimeDir: '/run/user/1000', tmpdir: '/tmp' }), [
      'home /home/ann/.lock-socket',
      'runtime /run/user/1000/lock-socket',
      'tmp /tmp/lock-socket-1000',
    ]);
    assert.deepEqual(dirs({ ...linux, runtimeDir: '/var/rt/', tmpdir: '/scratch/t/' }), [
      'home /home/ann/.lock-socket',
      'runtime /run/user/1000/lock-socket',
      'runtime /var/rt/lock-socket',
      'tmp /tmp/lock-socket-1000',
      'tmp /scratch/t/lock-socket-1000',
    ]);
    // Unset, empty or relative: not a runtime directory (the XDG specification ignores those).
    for (const runtimeDir of [undefined, '', 'run/user/1000']) {
      assert.deepEqual(dirs({ ...linux, runtimeDir, tmpdir: '/tmp' }), ['home /home/ann/.lock-socket', 'runtime /run/user/1000/lock-socket', 'tmp /tmp/lock-socket-1000']);
    }
    // macOS: no /run/user; its per-user $TMPDIR comes after the fixed /tmp.
    assert.deepEqual(dirs({ platform: 'darwin', uid: 501, homedir: '/Users/ann', runtimeDir: undefined, tmpdir: '/var/folders/xy/T/' }), [
      'home /Users/ann/Library/Application Support/lock-socket',
      'tmp /tmp/lock-socket-501',
      'tmp /var/folders/xy/T/lock-socket-501',
    ]);
    assert.deepEqual(dirs({ platform: 'win32', homedir: 'C:\\Users\\ann', localAppData: 'C:\\L', runtimeDir: '/x', tmpdir: 'C:\\T' }), ['home C:\\L\\lock-socket']);
    assert.equal(secretDirCandidates()[0]?.dir, defaultSecretDir(), 'the home comes first, as before');
  });

  /** Candidates under the test's root: a missing home, unusable runtime dirs, a usable temp root. */
  async function places(): Promise<{ home: SecretDirCandidate; runtime: SecretDirCandidate; tmp: SecretDirCandidate; all: SecretDirCandidate[] }> {
    const base = freshDir();
    await fs.mkdir(base, { mode: 0o700 });
    const open = path.join(base, 'rt-open');
    await fs.mkdir(open, { mode: 0o755 });
    await fs.chmod(open, 0o755);
    const home = { kind: 'home', root: path.join(base, 'no-home'), dir: path.join(base, 'no-home', '.lock-socket') } as const;
    const runtime = { kind: 'runtime', root: open, dir: path.join(open, 'lock-socket') } as const;
    await fs.mkdir(path.join(base, 'tmp'), { mode: 0o700 });
    const tmp = { kind: 'tmp', root: path.join(base, 'tmp'), dir: path.join(base, 'tmp', 'lock-socket-1') } as const;
    return { home, runtime, tmp, all: [home, runtime, tmp] };
  }

  test('no home and a runtime directory others can enter: the per-uid temp folder, made private', async () => {
    const { tmp, all } = await places();
    const { dir, secret } = findOrCreateSecret('com.fallback', all);
    assert.equal(dir, tmp.dir);
    assert.equal(secret.length, SECRET_BYTES);
    assert.equal((await fs.lstat(dir)).mode & 0o777, 0o700);
    assert.equal((await fs.lstat(secretPath('com.fallback', dir))).mode & 0o777, 0o600);
    assert.deepEqual(findOrCreateSecret('com.fallback', all), { dir, secret }, 'found again, not made again');
  });

  test('a runtime directory that is ours with mode 0700 comes before the temp folder', async () => {
    const { runtime, tmp, home } = await places();
    await fs.chmod(runtime.root, 0o700);
    assert.equal(findOrCreateSecret('com.rt', [home, runtime, tmp]).dir, runtime.dir);
  });

  test('looks in every place before creating: a secret in a later place wins over a home that could hold one', async () => {
    const { tmp } = await places();
    const theirs = findOrCreateSecret('com.seen', [tmp]).secret;
    const home = freshDir();
    await fs.mkdir(home, { mode: 0o700 });
    const homeCandidate = { kind: 'home', root: home, dir: path.join(home, '.lock-socket') } as const;
    assert.deepEqual(findOrCreateSecret('com.seen', [homeCandidate, tmp]), { dir: tmp.dir, secret: theirs });
    await assert.rejects(fs.access(homeCandidate.dir), 'nothing was created in the home');
    // A new appId has no secret anywhere: it goes to the first place that can hold it.
    assert.equal(findOrCreateSecret('com.new', [homeCandidate, tmp]).dir, homeCandidate.dir);
  });

  test('a planted temp folder (another owner) is never used: passed over while looking, refused when reached', { skip: !isRoot && 'needs root to chown' }, async () => {
    const { tmp } = await places();
    await fs.mkdir(tmp.dir, { mode: 0o700 });
    await fs.chown(tmp.dir, NOBODY, NOBODY);
    throwsWith(() => findOrCreateSecret('com.plant', [tmp]), 'ESECRET', /owned by uid 65534/);
    // With a home that can hold it, the planted folder costs nothing.
    const home = freshDir();
    await fs.mkdir(home, { mode: 0o700 });
    const homeCandidate = { kind: 'home', root: home, dir: path.join(home, '.lock-socket') } as const;
    assert.equal(findOrCreateSecret('com.plant', [homeCandidate, tmp]).dir, homeCandidate.dir);
  });

  test('an unsafe existing home directory is still refused, not passed over (as before the fallback)', async () => {
    const { tmp } = await places();
    const home = freshDir();
    await fs.mkdir(path.join(home, '.lock-socket'), { recursive: true, mode: 0o755 });
    await fs.chmod(path.join(home, '.lock-socket'), 0o755);
    const homeCandidate = { kind: 'home', root: home, dir: path.join(home, '.lock-socket') } as const;
    throwsWith(() => findOrCreateSecret('com.open', [homeCandidate, tmp]), 'ESECRET', /mode 0755/);
  });

  test('nowhere to go: ESECRET naming every place and why', async () => {
    const { home, runtime } = await places();
    const error = throwsWith(() => findOrCreateSecret('com.none', [home, runtime]), 'ESECRET', /mode 0755, not 0700/);
    assert.ok(error.message.includes(home.root), error.message);
  });
});

describe('as nobody (home /nonexistent), for real', { skip: nobodySkip() }, () => {
  const asNobody = { uid: NOBODY, gid: NOBODY, env: { PATH: '/usr/bin:/bin' } };
  const tmpFolder = `/tmp/${SECRET_DIR_NAME}-${NOBODY}`;
  const runUser = `/run/user/${NOBODY}`;
  // Only what these tests make is removed again: a folder that was there before is left alone
  // (and the test that needs it absent is skipped).
  const made = [tmpFolder, runUser].filter((dir) => !existsSync(dir));
  after(async () => {
    for (const dir of made) await fs.rm(dir, { recursive: true, force: true });
  });

  test('the secret goes to /tmp/lock-socket-65534 (0700, nobody\'s), and every later launch finds it', { skip: !made.includes(tmpFolder) && `${tmpFolder} exists already` }, async () => {
    const first = lastJson(await run(loadFixture, ['com.nobody', '-'], asNobody).done);
    assert.equal(first.code, undefined, first.message);
    assert.equal(first.where, tmpFolder);
    const st = await fs.lstat(tmpFolder);
    assert.deepEqual({ uid: st.uid, mode: st.mode & 0o777 }, { uid: NOBODY, mode: 0o700 });
    // Another launch with a different environment (a HOME, a TMPDIR) agrees.
    const again = lastJson(await run(loadFixture, ['com.nobody', '-'], { ...asNobody, env: { PATH: '/usr/bin:/bin', HOME: '/tmp', TMPDIR: '/var/tmp' } }).done);
    assert.deepEqual({ hex: again.hex, where: again.where }, { hex: first.hex, where: tmpFolder });
  });

  test('/run/user/65534 (logind\'s runtime directory) is found with or without XDG_RUNTIME_DIR', { skip: !made.includes(runUser) && `${runUser} exists already` }, async () => {
    await fs.mkdir(runUser, { mode: 0o700 });
    await fs.chown(runUser, NOBODY, NOBODY);
    const session = lastJson(await run(loadFixture, ['com.nobody.rt', '-'], { ...asNobody, env: { PATH: '/usr/bin:/bin', XDG_RUNTIME_DIR: runUser } }).done);
    assert.equal(session.where, `${runUser}/${SECRET_DIR_NAME}`, session.message);
    const cron = lastJson(await run(loadFixture, ['com.nobody.rt', '-'], asNobody).done);
    assert.deepEqual({ hex: cron.hex, where: cron.where }, { hex: session.hex, where: session.where }, 'a launch from cron, without XDG_RUNTIME_DIR, finds the same secret');
    await fs.rm(runUser, { recursive: true, force: true });
  });

  test('an XDG_RUNTIME_DIR that others can enter is not used', async () => {
    const open = freshDir();
    await fs.mkdir(open, { mode: 0o755 });
    await fs.chmod(open, 0o755);
    await fs.chown(open, NOBODY, NOBODY);
    const result = lastJson(await run(loadFixture, ['com.nobody.open', '-'], { ...asNobody, env: { PATH: '/usr/bin:/bin', XDG_RUNTIME_DIR: open } }).done);
    assert.equal(result.code, undefined, result.message);
    assert.notEqual(result.where, path.join(open, SECRET_DIR_NAME));
    await assert.rejects(fs.access(path.join(open, SECRET_DIR_NAME)));
  });

  test('solo runs COMMAND, and a second solo is told who holds the lock', async () => {
    const p = String(port(0));
    const soloAsNobody = (args: string[]) => spawn(process.execPath, [SOLO, ...args], { ...asNobody, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
    const outcome = (child: ChildProcess) => {
      children.add(child);
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      return new Promise<{ code: number | null; out: string }>((resolve) => child.on('exit', (code) => resolve({ code, out })));
    };
    const once = await outcome(soloAsNobody([p, process.execPath, '-e', 'process.exit(7)']));
    assert.equal(once.code, 7, `COMMAND ran with its status: ${once.out}`);
    const holder = soloAsNobody([p, process.execPath, '-e', 'console.log("running"); setTimeout(() => {}, 60000)']);
    const held = outcome(holder);
    await new Promise<void>((resolve) => holder.stdout!.on('data', (d) => String(d).includes('running') && resolve()));
    const second = await outcome(soloAsNobody([p, process.execPath, '-e', 'console.log("SHOULD NOT RUN")']));
    assert.equal(second.code, 75, second.out);
    assert.match(second.out, /held by solo \(pid \d+\)/, 'forwarded over the lock socket with the fallback secret');
    holder.kill('SIGTERM');
    await held;
  });
});
