/**
 * The lock's error codes. Match on `error.code`, never on the message: the codes are a closed
 * set, each explained in the README's "Error codes" table (a test keeps the two in step). The
 * single-instance layer adds its own in src/main/errors.ts. None of either is a code Node gives
 * a system error (EACCES, EBUSY, ...), so `err.code === 'ELOCKED'` is never ambiguous.
 */
import { LockSocketError as CodedError, codeGuard, type LockSocketErrorClass } from './error-class.js';

export const ErrorCode = {
  /** The address and port are already held: by another process, another object, or a foreign listener. */
  ELOCKED: 'ELOCKED',
  /** The port is not an integer from 1 to 65535. */
  EINVALIDPORT: 'EINVALIDPORT',
  /** The address is not a numeric IPv4 or IPv6 address. */
  EINVALIDADDR: 'EINVALIDADDR',
  /** The address is not a loopback address: a lock must never open a port to the network. */
  ENOTLOOPBACK: 'ENOTLOOPBACK',
  /** The operating system refused the port (a privileged port without the right to bind it). */
  EPORTDENIED: 'EPORTDENIED',
  /** The host has no such address (e.g. 127.X.Y.1 on macOS, or ::1 with IPv6 off). */
  ENOSUCHADDR: 'ENOSUCHADDR',
  /** The uid is too large for the per-user address scheme; pass an explicit address. */
  EUIDRANGE: 'EUIDRANGE',
  /** Binding failed for another reason; `cause` holds the system error. */
  ELISTEN: 'ELISTEN',
  /** An option has the wrong type or an impossible value. */
  EINVALIDOPTION: 'EINVALIDOPTION',
} as const;

export type LockSocketErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** True when `code` is one of the lock's codes. */
export const isErrorCode: (code: unknown) => code is LockSocketErrorCode = codeGuard(ErrorCode);

/** The error class, with the lock's codes (src/lock/error-class.ts explains the pair). */
export type LockSocketError = CodedError<LockSocketErrorCode>;
export const LockSocketError: LockSocketErrorClass<LockSocketErrorCode> = CodedError;
