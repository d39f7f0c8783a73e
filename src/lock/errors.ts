/**
 * The lock's error codes. Match on `error.code`, never on the message: the codes are a closed
 * set, each explained in the README's "Error codes" table (a test keeps the two in step). The
 * single-instance layer adds its own in src/main/errors.ts. None of either is a code Node gives
 * a system error (EACCES, EBUSY, ...), so `err.code === 'ELOCKED'` is never ambiguous.
 */
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

/**
 * The one error class of lock-socket, shared by both layers: `code` is one of the lock's codes
 * here; `lock-socket/main` exports the same class typed with its codes too (src/main/errors.ts),
 * so `instanceof` works across the two entry points and narrows `code` to the entry's union.
 */
export class LockSocketError extends Error {
  override readonly name = 'LockSocketError';
  readonly code: LockSocketErrorCode;

  constructor(code: LockSocketErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The type guard of one layer's codes: true when `code` is one of the values of `codes`. */
export function codeGuard<Code extends string>(codes: Readonly<Record<string, Code>>): (code: unknown) => code is Code {
  const known: ReadonlySet<string> = new Set(Object.values(codes));
  return (code: unknown): code is Code => typeof code === 'string' && known.has(code);
}

/** True when `code` is one of the lock's codes. */
export const isErrorCode: (code: unknown) => code is LockSocketErrorCode = codeGuard(ErrorCode);
