/**
 * Every default of the single-instance layer. The README quotes each of these; a test
 * compares the text with the values, so change them here and the README together.
 */

/** Connect, mutual proof, and the holder's "accepted" for one launch (ms). */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 3000;
/** How long a launcher waits for the holder's handler to reply (ms); `Infinity` is allowed. */
export const DEFAULT_REPLY_TIMEOUT_MS = 60_000;
/** Largest frame either side accepts, checked from the header before the body is buffered. */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;
/** Most arguments one launch may carry. */
export const DEFAULT_MAX_ARGS = 8192;
/** Largest single argument, cwd, environment value or reply message, in UTF-8 bytes. */
export const DEFAULT_MAX_ARG_BYTES = 128 * 1024;
/** Launches kept for a handler that is not attached yet; one more is refused with EQUEUEFULL. */
export const DEFAULT_MAX_QUEUE = 64;
/** Connections the holder serves at once; one more is refused with ETOOMANYCONNECTIONS. */
export const DEFAULT_MAX_CONNECTIONS = 128;
/** Connections that have not proved themselves yet; past this the oldest is closed (slowloris). */
export const DEFAULT_MAX_UNAUTHENTICATED = 32;
/** How often a launch retries when the lock changes hands between tryLock and connect. */
export const DEFAULT_RETRIES = 7;
/**
 * Version of the wire protocol, sent in the first frame of each side. 2: sealed channel
 * (docs/protocol.md); 1 was lock-socket 0.1's, which proved both sides but sealed nothing.
 */
export const PROTOCOL_VERSION = 2;
/**
 * Largest frame accepted from a peer that has not proved itself (a HELLO, a CHALLENGE, a
 * FINISHED, an ERROR in clear), checked from the header: a stranger cannot make either side
 * buffer or parse more than this. Every frame of the handshake fits in a quarter of it.
 */
export const MAX_HANDSHAKE_FRAME_BYTES = 1024;
/** Magic value opening the first frame of each side: ASCII "LKSK". */
export const MAGIC = Buffer.from('LKSK', 'latin1');
/**
 * How long the holder keeps a connection open after its last frame (a REPLY, a status answer, an
 * ERROR) for the launcher to close it first; past this the holder closes it anyway.
 */
export const LINGER_MS = 1000;
/** Bytes of the per-user secret and of each handshake nonce. */
export const SECRET_BYTES = 32;
export const NONCE_BYTES = 32;
/** Longest appId, in UTF-8 bytes. */
export const MAX_APP_ID_BYTES = 256;
/** Most environment variables a launch may forward. */
export const MAX_ENV_VARS = 64;
/** lock-socket's own version, reported by a holder in its handshake (a test compares it with package.json). */
export const LIBRARY_VERSION = '0.2.0';
