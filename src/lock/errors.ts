/**
 * The one error class of lock-socket. Match on `error.code`, never on the message: the codes
 * are a closed set, each explained in the README's "Error codes" table (a test keeps the two
 * in step).
 */
export const ErrorCode = {
  // -- the lock (src/lock) --------------------------------------------------------------
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
  /**
   * The lock is held, but by a socket that accepts no connections: bound without listening
   * (Perl's Lock::Socket), so nothing can be asked of its holder. Learned from a failed listen.
   */
  ENOLISTENER: 'ENOLISTENER',

  // -- framing and messages (src/main) --------------------------------------------------
  /** A frame header announced more bytes than the maximum frame size; nothing was buffered. */
  EFRAMETOOLARGE: 'EFRAMETOOLARGE',
  /** The connection ended in the middle of a frame. */
  ETRUNCATED: 'ETRUNCATED',
  /** A frame's text is not valid UTF-8. */
  EBADUTF8: 'EBADUTF8',
  /** A frame is not a well-formed message of the protocol (unknown type, bad JSON, wrong shape). */
  EBADMESSAGE: 'EBADMESSAGE',
  /** The first frame does not start with the protocol's magic value: the peer does not speak it. */
  EBADMAGIC: 'EBADMAGIC',
  /** The peer speaks another version of the protocol. */
  EVERSION: 'EVERSION',
  /** A launch carries more arguments than allowed. */
  ETOOMANYARGS: 'ETOOMANYARGS',
  /** One argument, cwd, data, an environment value or a reply text is larger than allowed. */
  ETOOLARGE: 'ETOOLARGE',

  // -- handshake and proof --------------------------------------------------------------
  /** The holder serves another appId on this port. */
  EAPPID: 'EAPPID',
  /** A proof of the per-user secret was missing or wrong: the peer is not the same user's app. */
  EAUTH: 'EAUTH',
  /** Something on the port is not a lock-socket holder (wrong bytes, or it closed without a handshake). */
  EFOREIGN: 'EFOREIGN',
  /** The connection or the holder's proof did not come in time; nothing of the launch was sent. */
  EHANDSHAKETIMEOUT: 'EHANDSHAKETIMEOUT',
  /** The per-user secret file or its directory is unsafe or unreadable (symlink, owner, mode). */
  ESECRET: 'ESECRET',

  // -- delivery and reply ---------------------------------------------------------------
  /** The holder's queue of launches waiting for a handler is full. */
  EQUEUEFULL: 'EQUEUEFULL',
  /** The holder has too many connections open. */
  ETOOMANYCONNECTIONS: 'ETOOMANYCONNECTIONS',
  /** The holder's handler did not reply within the reply timeout. */
  EREPLYTIMEOUT: 'EREPLYTIMEOUT',
  /** The holder's handler threw or rejected instead of replying. */
  EHANDLER: 'EHANDLER',
  /**
   * The launch was sent, but the holder never confirmed it (a timeout, a lost connection, or a
   * confirmation that failed authentication): it may have run. Not retried, and not to be
   * retried blindly.
   */
  EINDOUBT: 'EINDOUBT',
  /** The connection closed before the launch was answered (the holder quit or released). */
  ECLOSED: 'ECLOSED',
  /** The lock changed hands more often than the retry limit while a launch tried to reach it. */
  ERETRIES: 'ERETRIES',
} as const;

export type LockSocketErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const codes: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** True when `code` is one of lock-socket's own codes (useful for codes that crossed the wire). */
export function isErrorCode(code: unknown): code is LockSocketErrorCode {
  return typeof code === 'string' && codes.has(code);
}

export class LockSocketError extends Error {
  override readonly name = 'LockSocketError';
  readonly code: LockSocketErrorCode;

  constructor(code: LockSocketErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
