/**
 * Whether a test can run a process as the user `nobody` here: it takes root, a `nobody` account,
 * and a checkout that `nobody` can read (a clone under /root or in a mktemp directory is 0700,
 * and then every fixture fails with "Cannot find module" instead of testing anything).
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';

export interface Nobody {
  uid: number;
  gid: number;
}

let cached: Nobody | string | undefined;

/** `nobody`'s ids, or the reason (for `skip`) why no process can run as nobody here. */
export function nobody(): Nobody | string {
  cached ??= probe();
  return cached;
}

/** For `{ skip }`: false when tests can run as nobody, else the reason. */
export function nobodySkip(): false | string {
  const n = nobody();
  return typeof n === 'string' ? n : false;
}

function probe(): Nobody | string {
  if (process.getuid?.() !== 0) return 'needs root to start a process as user nobody';
  const id = (flag: string): number => Number(spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' }).stdout?.trim() || NaN);
  const uid = id('-u');
  const gid = id('-g');
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) return 'no user nobody on this host';
  // The compiled tests and fixtures (dist/) must be readable by nobody, and this Node runnable.
  const dist = fileURLToPath(new URL('../../', import.meta.url));
  const check = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(dist)}, require('fs').constants.R_OK | require('fs').constants.X_OK)`], {
    uid,
    gid,
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin' },
  });
  if (check.error || check.status !== 0) {
    return `user nobody cannot run ${process.execPath} on ${dist} (a private checkout, e.g. under /root or a 0700 mktemp dir)`;
  }
  return { uid, gid };
}

/**
 * Two private secret directories for a test that runs something as nobody: root's own, and one
 * made for nobody and handed over to it (in a 0755 parent, so nobody can reach it). Made in
 * `before`, removed in `after`; with `skip`, neither is made.
 */
export function secretDirsForRootAndNobody(name: string, ids: Nobody | string): { root: () => string; nobody: () => string } {
  let rootDir = '';
  let nobodyDir = '';
  before(async () => {
    if (typeof ids === 'string') return;
    rootDir = await fs.mkdtemp(path.join(os.tmpdir(), `lock-socket-${name}-root-`));
    const parent = await fs.mkdtemp(path.join(os.tmpdir(), `lock-socket-${name}-nobody-`));
    await fs.chmod(parent, 0o755);
    nobodyDir = path.join(parent, 'secrets');
    await fs.mkdir(nobodyDir, { mode: 0o700 });
    await fs.chown(nobodyDir, ids.uid, ids.gid);
  });
  after(async () => {
    if (rootDir) await fs.rm(rootDir, { recursive: true, force: true });
    if (nobodyDir) await fs.rm(path.dirname(nobodyDir), { recursive: true, force: true });
  });
  return { root: () => rootDir, nobody: () => nobodyDir };
}
