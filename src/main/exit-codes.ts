/**
 * The exit statuses of `solo`, from sysexits.h where one fits, and the shell's conventions for
 * a command that cannot run (126, 127) or died of a signal (128 + N). The README's table is
 * generated from this object's values. It lives in src/main, not src/cli, because the Electron
 * adapter (electron.ts) ends a launch that could not be forwarded with the same statuses.
 */
import { ErrorCode } from './errors.js';
import type { LockSocketErrorCode } from './errors.js';

export const ExitCode = {
  /** COMMAND ran and succeeded (otherwise solo exits with COMMAND's own status); --status: the lock is held (by this app, proven, with --app-id). */
  OK: 0,
  /** --status: nobody holds the lock. */
  FREE: 1,
  /** --status --app-id ID: held by a lock-socket holder of another app. */
  OTHER_APP: 3,
  /** Wrong usage: unknown option, missing COMMAND, a PORT that is not a number from 1 to 65535 (EX_USAGE). */
  USAGE: 64,
  /** An operating-system error while taking the lock (ELISTEN) (EX_OSERR). */
  OSERR: 71,
  /**
   * The lock is held by someone else (or something that is not lock-socket): COMMAND was not run
   * (EX_TEMPFAIL: try again later). --status: held, but the holder could not prove it is this
   * user's app, or did not answer.
   */
  LOCKED: 75,
  /** --status: held by something that does not speak lock-socket, or accepts no connections at all (EX_PROTOCOL). */
  FOREIGN: 76,
  /** A bad address, or the lock cannot be taken here (EPORTDENIED, ENOSUCHADDR, EUIDRANGE), an unsafe secret (EX_CONFIG). */
  CONFIG: 78,
  /** COMMAND exists but cannot be executed (permission denied, not an executable). */
  CANNOT_EXECUTE: 126,
  /** COMMAND was not found. */
  NOT_FOUND: 127,
  /** COMMAND was killed by signal N: solo exits with 128 + N (SIGTERM → 143). */
  SIGNAL_BASE: 128,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** How each lock error ends `solo`. Codes not listed here exit with {@link ExitCode.OSERR}. */
const byErrorCode: Partial<Record<LockSocketErrorCode, number>> = {
  [ErrorCode.ELOCKED]: ExitCode.LOCKED,
  [ErrorCode.EINVALIDPORT]: ExitCode.CONFIG,
  [ErrorCode.EINVALIDADDR]: ExitCode.CONFIG,
  [ErrorCode.ENOTLOOPBACK]: ExitCode.CONFIG,
  [ErrorCode.EPORTDENIED]: ExitCode.CONFIG,
  [ErrorCode.ENOSUCHADDR]: ExitCode.CONFIG,
  [ErrorCode.EUIDRANGE]: ExitCode.CONFIG,
  [ErrorCode.EINVALIDOPTION]: ExitCode.CONFIG,
  [ErrorCode.ELISTEN]: ExitCode.OSERR,
  [ErrorCode.ESECRET]: ExitCode.CONFIG,
  // Held, by a holder we could not hand over to: COMMAND does not run, as with a plain ELOCKED.
  [ErrorCode.EFOREIGN]: ExitCode.LOCKED,
  [ErrorCode.ENOLISTENER]: ExitCode.LOCKED,
  [ErrorCode.EAPPID]: ExitCode.LOCKED,
  [ErrorCode.EAUTH]: ExitCode.LOCKED,
  [ErrorCode.EHANDSHAKETIMEOUT]: ExitCode.LOCKED,
  [ErrorCode.ETOOMANYCONNECTIONS]: ExitCode.LOCKED,
  [ErrorCode.EQUEUEFULL]: ExitCode.LOCKED,
  [ErrorCode.ECLOSED]: ExitCode.LOCKED,
  [ErrorCode.ERETRIES]: ExitCode.LOCKED,
  [ErrorCode.EREPLYTIMEOUT]: ExitCode.LOCKED,
  [ErrorCode.EHANDLER]: ExitCode.LOCKED,
  [ErrorCode.EVERSION]: ExitCode.LOCKED,
  [ErrorCode.EINDOUBT]: ExitCode.LOCKED,
};

/** The exit status for a lock-socket error code. */
export function exitCodeForError(code: LockSocketErrorCode): number {
  return byErrorCode[code] ?? ExitCode.OSERR;
}
