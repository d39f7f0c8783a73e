/**
 * Where the per-user secret may live when no `secretDir` is given: a fixed list of places, in
 * the one order both sides of the lock socket look through (docs/secret.md).
 *
 * A user without a writable home (`nobody` with /nonexistent, a service user, a container with a
 * read-only home) still needs a secret to forward launches. The fallbacks are as private as the
 * home: a runtime directory only the user can enter, or a per-uid folder in /tmp that this user
 * owns with mode 0700 (tmux's /tmp/tmux-UID). Places that do not depend on the environment come
 * before those that do, so that a launch from cron (no XDG_RUNTIME_DIR, no TMPDIR) and a holder
 * started from a desktop session settle on the same place.
 */
import { lstatSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const SECRET_DIR_NAME = 'lock-socket';

export type SecretDirKind = 'home' | 'runtime' | 'tmp';

export interface SecretDirCandidate {
  /** The private directory the secret file goes in. */
  dir: string;
  kind: SecretDirKind;
  /**
   * What must already exist for `dir` to be created below it: the home, the runtime directory,
   * the temp root. lock-socket never creates it (it would not create a user's missing home).
   */
  root: string;
}

export interface SecretDirInput {
  platform?: NodeJS.Platform;
  uid?: number;
  /** The home from the password database (default), not $HOME. */
  homedir?: string;
  /** Windows: %LOCALAPPDATA%. */
  localAppData?: string;
  /** $XDG_RUNTIME_DIR, or undefined when unset. Default: the environment's. */
  runtimeDir?: string | undefined;
  /** `os.tmpdir()` (which follows $TMPDIR). Default: the environment's. */
  tmpdir?: string;
}

/**
 * The default private directory for secrets, under the home. Pure when all inputs are given.
 *
 * The home comes from the password database, not $HOME or XDG_*: a launch from cron, ssh, a
 * .desktop file, `sudo -E` or Electron must find the holder's secret, and those environments
 * disagree about $HOME and XDG_RUNTIME_DIR but never about the uid's home.
 */
export function defaultSecretDir(input: { platform?: NodeJS.Platform; homedir?: string; localAppData?: string } = {}): string {
  const platform = input.platform ?? process.platform;
  const home = input.homedir ?? passwdHome();
  if (platform === 'win32') {
    // Windows sets LOCALAPPDATA from the user's profile at logon, so every launch of that user
    // sees the same value; it also follows folder redirection, which home\AppData would not.
    const env = process.env['LOCALAPPDATA'];
    const local =
      input.localAppData ??
      (input.homedir === undefined && env && path.win32.isAbsolute(env) ? env : undefined) ??
      path.win32.join(home, 'AppData', 'Local');
    return path.win32.join(local, SECRET_DIR_NAME);
  }
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Application Support', SECRET_DIR_NAME);
  return path.posix.join(home, `.${SECRET_DIR_NAME}`);
}

/**
 * Every place the secret may live, in the order both sides look. Pure when all inputs are given.
 *
 * 1. {@link defaultSecretDir}, under the home (`root`: the home itself).
 * 2. Linux: `/run/user/UID/lock-socket`, where systemd-logind puts every session's
 *    $XDG_RUNTIME_DIR, named without the environment so cron finds what a desktop session made.
 * 3. `$XDG_RUNTIME_DIR/lock-socket`, when the variable is set, absolute and another directory.
 * 4. `/tmp/lock-socket-UID`, fixed, like tmux's /tmp/tmux-UID (tmux ignores $TMPDIR too).
 * 5. `os.tmpdir()/lock-socket-UID`, when $TMPDIR names another directory (a read-only /tmp).
 *
 * Windows has only the first: %LOCALAPPDATA% always exists there.
 */
export function secretDirCandidates(input: SecretDirInput = {}): SecretDirCandidate[] {
  const platform = input.platform ?? process.platform;
  const home = input.homedir ?? passwdHome();
  const first = defaultSecretDir({ platform, homedir: home, ...(input.localAppData === undefined ? {} : { localAppData: input.localAppData }) });
  const candidates: SecretDirCandidate[] = [{ dir: first, kind: 'home', root: home }];
  const uid = input.uid ?? process.getuid?.();
  if (platform === 'win32' || uid === undefined) return candidates;

  const add = (candidate: SecretDirCandidate): void => {
    if (!candidates.some((c) => c.dir === candidate.dir)) candidates.push(candidate);
  };
  const runtime = (root: string): SecretDirCandidate => ({ dir: path.posix.join(root, SECRET_DIR_NAME), kind: 'runtime', root });
  const tmp = (root: string): SecretDirCandidate => ({ dir: path.posix.join(root, `${SECRET_DIR_NAME}-${uid}`), kind: 'tmp', root });

  if (platform === 'linux') add(runtime(`/run/user/${uid}`));
  const xdg = 'runtimeDir' in input ? input.runtimeDir : process.env['XDG_RUNTIME_DIR'];
  if (xdg && path.posix.isAbsolute(xdg)) add(runtime(path.posix.normalize(xdg).replace(/\/+$/, '') || '/'));
  add(tmp('/tmp'));
  const tmpdir = input.tmpdir ?? os.tmpdir();
  if (path.posix.isAbsolute(tmpdir)) add(tmp(path.posix.normalize(tmpdir).replace(/\/+$/, '') || '/'));
  return candidates;
}

/**
 * Why the secret directory cannot be made below `candidate.root`, or undefined when it can be
 * tried. A runtime directory must be this user's own, mode 0700, as the XDG Base Directory
 * specification requires of $XDG_RUNTIME_DIR; a home or temp root must be a directory.
 */
export function unusableRoot(candidate: SecretDirCandidate, uid: number | undefined = process.getuid?.()): string | undefined {
  try {
    if (candidate.kind !== 'runtime') {
      // The temp root is often a symlink (/tmp → /private/tmp on macOS), the home may be one:
      // followed here. The directory made below it is checked without following.
      return statSync(candidate.root).isDirectory() ? undefined : `${candidate.root} is not a directory`;
    }
    // A runtime directory must be private itself, so it is checked as it is, not followed.
    const st = lstatSync(candidate.root);
    if (!st.isDirectory()) return `${candidate.root} is not a directory`;
    if (uid !== undefined && st.uid !== uid) return `${candidate.root} is owned by uid ${st.uid}, not by you (uid ${uid})`;
    if ((st.mode & 0o777) !== 0o700) return `${candidate.root} has mode 0${(st.mode & 0o777).toString(8)}, not 0700`;
    return undefined;
  } catch (error) {
    return `${candidate.root} is missing or unreadable (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
}

function passwdHome(): string {
  try {
    const home = os.userInfo().homedir;
    if (home) return home;
  } catch {
    // A uid without a passwd entry (containers run with an arbitrary uid): nothing stable
    // exists, so $HOME via os.homedir() is the best remaining guess.
  }
  return os.homedir();
}
