/**
 * `solo --status`: who holds the lock on PORT, one line (or one JSON object) and an exit status
 * per answer. A refused connect does not mean "free": a holder that binds without listening
 * (Perl's Lock::Socket) refuses connections as a free port does; instanceStatus tells the two
 * apart by a listen (isHeld): undefined is free, ENOLISTENER is held by a socket that accepts nothing.
 */
import { ErrorCode, LockSocketError } from '../main/errors.js';
import type { LockSocketErrorCode } from '../main/errors.js';
import { instanceStatus } from '../main/instance.js';
import type { HolderStatus } from '../main/types.js';
import { UsageError, lockFor, lockName, portArgument } from './args.js';
import type { Invocation } from './args.js';
import { warnIfEphemeral } from './ephemeral.js';
import { ExitCode } from '../main/exit-codes.js';

/** What --status found, before it is printed. */
type Finding =
  | { kind: 'free' }
  | { kind: 'held'; status: HolderStatus; proof: 'unchecked' | 'verified' | 'not-proven' | 'other-app' }
  | { kind: 'foreign' | 'silent' | 'other-app'; code: LockSocketErrorCode; message: string };

/**
 * Errors of instanceStatus that are answers, not failures: the lock is held, by something that
 * is not (or cannot be shown to be) this user's app.
 * - `EFOREIGN`, `ENOLISTENER`: whatever holds it does not speak lock-socket (or accepts nothing);
 * - `EAPPID`: a lock-socket holder of another app;
 * - `EAUTH`, `EHANDSHAKETIMEOUT`, `EVERSION`, `EBADMAGIC`...: held, but nothing could be proven.
 */
const FOREIGN: ReadonlySet<string> = new Set([ErrorCode.EFOREIGN, ErrorCode.ENOLISTENER, ErrorCode.EBADMAGIC, ErrorCode.EFRAMETOOLARGE]);
const SILENT: ReadonlySet<string> = new Set([ErrorCode.EHANDSHAKETIMEOUT, ErrorCode.EAUTH, ErrorCode.EVERSION, ErrorCode.EBADMESSAGE, ErrorCode.EBADUTF8, ErrorCode.ETRUNCATED, ErrorCode.ECLOSED, ErrorCode.ETOOMANYCONNECTIONS]);

export async function statusMode({ values, positionals }: Invocation): Promise<number> {
  const [portText, extra] = positionals;
  const port = portArgument(portText, 'missing PORT');
  if (extra !== undefined) throw new UsageError('--status takes only PORT');
  const lock = lockFor(values, port);
  const { addr, port: lockPort } = lock;
  warnIfEphemeral(lockPort);
  const appId = values['app-id'];
  const finding = await find(addr, lockPort, appId, values['secret-dir']);
  const endpoint = lockName(lock, port);
  process.stdout.write(values.json ? `${JSON.stringify(asJson(finding, addr, lockPort))}\n` : `${describe(finding, endpoint, appId)}\n`);
  return exitCode(finding);
}

async function find(addr: string, port: number, appId: string | undefined, secretDir: string | undefined): Promise<Finding> {
  let status: HolderStatus | undefined;
  try {
    status = await instanceStatus({ port, addr, ...(appId === undefined ? {} : { appId }), ...(secretDir === undefined ? {} : { secretDir }) });
  } catch (error) {
    if (!(error instanceof LockSocketError)) throw error;
    // A holder that refuses to describe itself to another appId: held by another app, unnamed.
    if (error.code === ErrorCode.EAPPID) return { kind: 'other-app', code: error.code, message: error.message };
    if (FOREIGN.has(error.code)) return { kind: 'foreign', code: error.code, message: error.message };
    if (SILENT.has(error.code)) return { kind: 'silent', code: error.code, message: error.message };
    throw error;
  }
  // Free: instanceStatus has already told a free port from one held by a socket that binds
  // without listening (that one is ENOLISTENER, above), by a listen that succeeded.
  if (status === undefined) return { kind: 'free' };
  if (appId === undefined) return { kind: 'held', status, proof: 'unchecked' };
  if (status.appId !== appId) return { kind: 'held', status, proof: 'other-app' };
  return { kind: 'held', status, proof: status.verified ? 'verified' : 'not-proven' };
}

function describe(finding: Finding, endpoint: string, appId: string | undefined): string {
  switch (finding.kind) {
    case 'free':
      return `${endpoint} is free`;
    case 'other-app':
      return `${endpoint} is held by another app, not ${JSON.stringify(appId)} (${finding.code}: ${finding.message})`;
    case 'foreign':
      if (finding.code === ErrorCode.ENOLISTENER) {
        return `${endpoint} is held by a socket that accepts no connections (bound without listening, e.g. Perl's Lock::Socket; ${finding.code})`;
      }
      return `${endpoint} is held by something that does not speak lock-socket (${finding.code}: ${finding.message})`;
    case 'silent':
      return `${endpoint} is held, but its holder could not be shown to be this user's app (${finding.code}: ${finding.message})`;
    case 'held': {
      const { status } = finding;
      const since = new Date(status.startedAt).toISOString();
      const who = `pid ${status.pid} (${status.appId}, lock-socket ${status.version}, since ${since}`;
      switch (finding.proof) {
        case 'unchecked':
          return `${endpoint} is held by ${who}; unverified: pass --app-id to check)`;
        case 'verified':
          return `${endpoint} is held by ${who}; verified)`;
        case 'other-app':
          return `${endpoint} is held by another app: pid ${status.pid} says it is ${JSON.stringify(status.appId)}, not ${JSON.stringify(appId)}`;
        case 'not-proven':
          return `${endpoint} is held, NOT proven: pid ${status.pid} says it is ${JSON.stringify(status.appId)} but could not prove it is this user's app`;
      }
    }
  }
}

function asJson(finding: Finding, addr: string, port: number): object {
  switch (finding.kind) {
    case 'free':
      return { addr, port, held: false };
    case 'held':
      // instanceStatus()'s result as it is, so scripts keep reading the same shape.
      return finding.status;
    default:
      return { addr, port, held: true, code: finding.code, message: finding.message };
  }
}

function exitCode(finding: Finding): number {
  switch (finding.kind) {
    case 'free':
      return ExitCode.FREE;
    case 'other-app':
      return ExitCode.OTHER_APP;
    case 'foreign':
      return ExitCode.FOREIGN;
    case 'silent':
      return ExitCode.LOCKED;
    case 'held':
      if (finding.proof === 'other-app') return ExitCode.OTHER_APP;
      return finding.proof === 'not-proven' ? ExitCode.LOCKED : ExitCode.OK;
  }
}
