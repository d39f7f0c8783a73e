/**
 * The single-instance layer's error codes, and the lock's with them: what `lock-socket/main`
 * exports as `ErrorCode`. The lock (src/lock/errors.ts) knows nothing of these; both layers
 * throw the one LockSocketError class (src/lock/errors.ts), each typed with its own codes.
 */
import { formatEndpoint } from '../lock/address.js';
import { ErrorCode as LockErrorCode, LockSocketError as LockError, codeGuard } from '../lock/errors.js';

/** The codes only this layer raises: the protocol's, the handshake's, the secret's, a launch's. */
const SingleInstanceErrorCode = {
  // -- framing and messages --------------------------------------------------------------
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
  /**
   * The lock is held, but by a socket that accepts no connections: bound without listening
   * (Perl's Lock::Socket), so nothing can be asked of its holder. Learned from a failed listen.
   */
  ENOLISTENER: 'ENOLISTENER',
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

/** Every code of `lock-socket/main`: the lock's and this layer's. */
export const ErrorCode = { ...LockErrorCode, ...SingleInstanceErrorCode } as const;

export type LockSocketErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** True when `code` is one of lock-socket's codes (useful for codes that crossed the wire). */
export const isErrorCode: (code: unknown) => code is LockSocketErrorCode = codeGuard(ErrorCode);

/**
 * The one error class (src/lock/errors.ts), typed with every code of this layer and the lock's:
 * the same class at run time, so `instanceof` holds across the two entry points, and narrows
 * `code` to this union.
 */
export type LockSocketError = Omit<LockError, 'code'> & { readonly code: LockSocketErrorCode };
export const LockSocketError = LockError as unknown as {
  new (code: LockSocketErrorCode, message: string, options?: { cause?: unknown }): LockSocketError;
  readonly prototype: LockSocketError;
};

/** The message of an ENOLISTENER: held by something that accepts no connections. */
export function noListenerMessage(addr: string, port: number): string {
  return `${formatEndpoint(addr, port)} is held by a socket that accepts no connections (bound without listening, e.g. Perl's Lock::Socket)`;
}
