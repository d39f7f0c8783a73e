/**
 * The per-user secret that both ends of the lock socket prove knowledge of. Any local user (and
 * any browser page) can reach a loopback port, so the secret is what makes a peer "the same
 * user's app": it lives in a file only this user can read, in a directory only this user owns.
 */
import {
  chmodSync,
  closeSync,
  constants as fsConstants,
  fstatSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { LockSocketError } from './errors.js';
import { fnv1a64 } from '../lock/hash.js';
import { SECRET_BYTES } from './constants.js';
import { defaultSecretDir, secretDirCandidates, unusableRoot } from './secret-dirs.js';
import type { SecretDirCandidate } from './secret-dirs.js';

export { SECRET_DIR_NAME, defaultSecretDir, secretDirCandidates } from './secret-dirs.js';
export type { SecretDirCandidate, SecretDirInput } from './secret-dirs.js';

import type { KeyObject } from 'node:crypto';
import { debug } from './debug.js';
import { secretKey } from './keys.js';

/** Longest readable part of a file name; the hash suffix keeps names unique anyway. */
const SLUG_MAX = 48;

/**
 * Path of the secret file for appId inside dir. `dir` defaults to defaultSecretDir(), the first
 * place looked in; without a home the secret may be in a later one (secretDirCandidates()).
 */
export function secretPath(appId: string, dir: string = defaultSecretDir()): string {
  // The slug is only for people looking at the directory; the hash is what keeps two appIds
  // apart ('a/b' and 'a_b' slug alike). Only [a-z0-9._-] survive, so no separator, NUL or
  // '..' component can ever reach the path; a leading dot is dropped to keep the file visible.
  const slug =
    appId
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '_')
      .replace(/^[._]+/, '')
      .slice(0, SLUG_MAX) || 'app';
  return path.join(dir, `${slug}-${fnv1a64(appId)}.key`);
}

/**
 * The hash in a secret's file name: FNV-1a 64 (src/lock/hash.ts). Two appIds that collided would
 * share one secret of the same user, which proves nothing more than either does (the appId is
 * checked separately).
 */
export { fnv1a64 };

/**
 * Reads the per-user secret for appId, creating it atomically if missing. Resolves to
 * SECRET_BYTES bytes. Without `dir`, the secret is looked for in every place of
 * {@link secretDirCandidates} and created in the first that can hold it (docs/secret.md). The
 * file work is synchronous on purpose: it is a handful of system calls on a 32-byte file, once
 * per launch, and each asynchronous call would be a round trip through libuv's thread pool —
 * together most of a forwarded launch's time (see docs/benchmarks.md, P3).
 */
export async function loadOrCreateSecret(appId: string, dir?: string): Promise<Buffer> {
  return loadOrCreateSecretSync(appId, dir);
}

/**
 * For a holder, which needs the secret at every connection: returns a function that gives the
 * current secret, read again only when the file changed (deleted and recreated, replaced) and
 * otherwise checked with a single lstat — a full read is five syscalls plus the directory checks.
 * Without `dir`, the place is found at the first call and then kept: a secret deleted there is
 * recreated there.
 */
export function secretFollower(appId: string, dir?: string): () => Buffer {
  let where = dir;
  let file = dir === undefined ? undefined : secretPath(appId, dir);
  let cached: { key: string; secret: Buffer } | undefined;
  return () => {
    if (where === undefined || file === undefined) {
      where = findOrCreateSecret(appId, secretDirCandidates()).dir;
      file = secretPath(appId, where);
    }
    // The key is taken *before* reading: a change after it shows as a new key on the next call.
    const key = fileKey(file);
    if (cached !== undefined && key !== '' && key === cached.key) return cached.secret;
    const secret = loadOrCreateSecretSync(appId, where);
    cached = { key, secret };
    return secret;
  };
}

/** Identity and version of a file ('' when it is missing or unreadable). */
function fileKey(file: string): string {
  try {
    const st = lstatSync(file);
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  } catch {
    return '';
  }
}

/** The same, synchronously. */
export function loadOrCreateSecretSync(appId: string, dir?: string): Buffer {
  if (dir === undefined) return findOrCreateSecret(appId, secretDirCandidates()).secret;
  ensurePrivateDir(dir);
  const file = secretPath(appId, dir);
  return readSecret(file) ?? createSecret(file);
}

/** Errors of mkdir/open/link that mean "this place cannot hold a secret": try the next one. */
const CANNOT_CREATE: ReadonlySet<string> = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR', 'ENOSPC', 'EDQUOT']);

/**
 * The secret for appId from the first candidate that has one; if none has, a new one in the first
 * candidate that can hold it. Looking through all of them before creating is what lets two
 * processes with different environments agree: one that cannot write the home (or sees no
 * XDG_RUNTIME_DIR) still finds the secret another made elsewhere, instead of making its own.
 *
 * A candidate that exists but is unsafe (a symlink, not ours, group/other bits) is passed over
 * while looking, and refused with ESECRET if creation reaches it: never used, never repaired.
 */
export function findOrCreateSecret(appId: string, candidates: readonly SecretDirCandidate[]): { dir: string; secret: Buffer } {
  const problems: string[] = [];
  for (const { dir } of candidates) {
    const why = unsafeExisting(dir);
    if (why === 'missing') continue;
    if (why !== undefined) {
      problems.push(why);
      continue;
    }
    const secret = readSecret(secretPath(appId, dir));
    if (secret !== undefined) return { dir, secret };
  }
  for (const candidate of candidates) {
    const why = unusableRoot(candidate);
    if (why !== undefined) {
      problems.push(why);
      continue;
    }
    try {
      return { dir: candidate.dir, secret: loadOrCreateSecretSync(appId, candidate.dir) };
    } catch (error) {
      const code = errno((error as { cause?: unknown }).cause);
      if (!(error instanceof LockSocketError) || code === undefined || !CANNOT_CREATE.has(code)) throw error;
      debug('secret: %s cannot hold it (%s), trying the next place', candidate.dir, code);
      problems.push(error.message);
    }
  }
  throw fail(`no place can hold the secret for ${JSON.stringify(appId)}: ${problems.join('; ')}. Pass secretDir (solo: --secret-dir) to name a private directory`);
}

/** 'missing' when nothing is at dir; why it is not a private directory of ours; or undefined. */
function unsafeExisting(dir: string): string | undefined {
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch (err) {
    return errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR' ? 'missing' : `cannot inspect ${dir} (${errno(err) ?? String(err)})`;
  }
  if (st.isSymbolicLink()) return `${dir} is a symlink`;
  if (!st.isDirectory()) return `${dir} is not a directory`;
  const problem = posix ? ownership(st) : undefined;
  return problem === undefined ? undefined : `${dir} ${problem}`;
}

const posix = process.platform !== 'win32';

function ensurePrivateDir(dir: string): void {
  let st: Stats | undefined = lstatOrUndefined(dir);
  if (st === undefined) {
    let created = false;
    try {
      mkdirSync(path.dirname(dir), { recursive: true, mode: 0o700 });
      mkdirSync(dir, { mode: 0o700 });
      created = true;
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw fail(`cannot create the secret directory ${dir}`, err);
    }
    // A directory we just made is ours: fix a umask that removed our own bits. One that already
    // existed is only checked; chmod-ing a directory someone else prepared would bless it.
    try {
      if (created && posix) chmodSync(dir, 0o700);
      st = lstatSync(dir);
    } catch (err) {
      throw fail(`cannot inspect the secret directory ${dir}`, err);
    }
  }
  if (st.isSymbolicLink()) throw fail(`the secret directory ${dir} is a symlink; remove it (lock-socket will create a private directory) or pass another dir`);
  if (!st.isDirectory()) throw fail(`the secret directory ${dir} is not a directory; remove it or pass another dir`);
  if (!posix) return; // Windows: the profile's ACLs protect AppData; there is no uid or mode to check.
  const problem = ownership(st);
  if (problem) throw fail(`the secret directory ${dir} ${problem}; remove it and let lock-socket recreate it, or run: chmod 700 '${dir}' if it is yours`);
}

/** lstat, or undefined when nothing is there yet. */
function lstatOrUndefined(dir: string): Stats | undefined {
  try {
    return lstatSync(dir);
  } catch (err) {
    if (errno(err) === 'ENOENT') return undefined;
    throw fail(`cannot inspect the secret directory ${dir}`, err);
  }
}

/** Why a stat'd path is not private to us, or undefined when it is. */
function ownership(st: Stats): string | undefined {
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return `is owned by uid ${st.uid}, not by you (uid ${uid})`;
  if ((st.mode & 0o077) !== 0) return `has mode 0${(st.mode & 0o777).toString(8)}, which lets other users in (needs 0700/0600)`;
  return undefined;
}

/** The secret in `file`, or undefined if there is none yet. */
function readSecret(file: string): Buffer | undefined {
  // O_NOFOLLOW: a planted symlink fails (ELOOP) instead of leading us to read or trust its target.
  // O_NONBLOCK: a planted FIFO cannot hang the open; fstat then rejects it as not a file.
  const flags = fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0) | (fsConstants.O_NONBLOCK ?? 0);
  let fd: number;
  try {
    fd = openSync(file, flags);
  } catch (err) {
    const code = errno(err);
    if (code === 'ENOENT') return undefined;
    // FreeBSD reports a symlink under O_NOFOLLOW as EMLINK, Linux and macOS as ELOOP.
    if (code === 'ELOOP' || code === 'EMLINK') throw fail(`the secret file ${file} is a symlink; remove it`, err);
    throw fail(`cannot open the secret file ${file}`, err);
  }
  try {
    // fstat on the open handle: checks exactly what we read, with no window for a swap.
    const st = fstatSync(fd);
    if (!st.isFile()) throw fail(`the secret file ${file} is not a regular file; remove it`);
    const problem = posix ? ownership(st) : undefined;
    if (problem) throw fail(`the secret file ${file} ${problem}; remove it and a new secret will be created`);
    if (st.size !== SECRET_BYTES) throw fail(`the secret file ${file} has ${st.size} bytes, not ${SECRET_BYTES}; remove it and a new secret will be created`);
    // One byte more than expected is asked for, so a file that grew since fstat is noticed.
    const bytes = Buffer.alloc(SECRET_BYTES + 1);
    const n = readSync(fd, bytes, 0, bytes.length, 0);
    if (n !== SECRET_BYTES) throw fail(`the secret file ${file} changed size while being read`);
    debug('secret: read %s', file);
    return bytes.subarray(0, SECRET_BYTES);
  } catch (err) {
    throw err instanceof LockSocketError ? err : fail(`cannot read the secret file ${file}`, err);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a fresh secret to a private temp file, then hard-links it into place. link() never
 * replaces an existing name, so when N processes race, exactly one link succeeds and every
 * other one gets EEXIST and reads the winner's secret: all of them end up with the same bytes,
 * and nobody ever sees a half-written file.
 */
function createSecret(file: string): Buffer {
  // Fetched here, not imported: only the very first launch of an app creates its secret.
  const { randomBytes } = process.getBuiltinModule('node:crypto');
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const secret = randomBytes(SECRET_BYTES);
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      if (writeSync(fd, secret) !== SECRET_BYTES) throw fail(`short write to ${tmp}`);
      // Durable before it becomes visible: a crash must not leave an empty secret behind.
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, file);
      debug('secret: created %s', file);
      return secret;
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw err;
    }
    debug('secret: lost the creation race for %s', file);
    const theirs = readSecret(file);
    if (!theirs) throw fail(`the secret file ${file} vanished right after being created`);
    return theirs;
  } catch (err) {
    throw err instanceof LockSocketError ? err : fail(`cannot create the secret file ${file}`, err);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone, or never made: nothing to clean up
    }
  }
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function fail(message: string, cause?: unknown): LockSocketError {
  return new LockSocketError('ESECRET', message, cause === undefined ? undefined : { cause });
}

/** The secret of `appId` as a key, read (or created) now: what a launcher proves itself with. */
export function readKey(appId: string, dir: string | undefined): KeyObject {
  return secretKey(loadOrCreateSecretSync(appId, dir));
}
