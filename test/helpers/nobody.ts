/**
 * Whether a test can run a process as the user `nobody` here: it takes root, a `nobody` account,
 * and a checkout that `nobody` can read (a clone under /root or in a mktemp directory is 0700,
 * and then every fixture fails with "Cannot find module" instead of testing anything).
 */
import { spawnSync } from 'node:child_process';
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
