/**
 * The defaults users see: one frozen object keyed by the option each one is the default of, so
 * `defaults.replyTimeout` reads like the option it fills in. The values themselves stay where
 * the code uses them (constants.ts, the lock's endpoints.ts); this file only names them for
 * users, in place of one exported constant per value.
 */
import { ALTERNATIVE_PORTS } from '../lock/endpoints.js';
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_ARG_BYTES,
  DEFAULT_MAX_ARGS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_QUEUE,
  DEFAULT_REPLY_TIMEOUT_MS,
  DEFAULT_RETRIES,
} from './constants.js';

/** The default of each numeric option of `requestSingleInstance` and `forwardLaunch`. */
export const defaults: Readonly<{
  /** Ports tried after the first when the port is derived from the appId (none with a given port). */
  alternatives: number;
  /** Connect, mutual proof and "accepted", in ms. */
  handshakeTimeout: number;
  /** How long a launcher waits for the holder's reply, in ms. */
  replyTimeout: number;
  /** Largest frame accepted from a peer that proved itself, in bytes. */
  maxFrameBytes: number;
  /** Most arguments one launch may carry. */
  maxArgs: number;
  /** Largest argument, cwd, environment value or reply message, in UTF-8 bytes. */
  maxArgBytes: number;
  /** Launches kept while no 'second-instance' listener is attached. */
  maxQueue: number;
  /** Connections the holder serves at once. */
  maxConnections: number;
  /** Attempts when the lock changes hands between taking it and connecting to its holder. */
  retries: number;
}> = Object.freeze({
  alternatives: ALTERNATIVE_PORTS,
  handshakeTimeout: DEFAULT_HANDSHAKE_TIMEOUT_MS,
  replyTimeout: DEFAULT_REPLY_TIMEOUT_MS,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxArgs: DEFAULT_MAX_ARGS,
  maxArgBytes: DEFAULT_MAX_ARG_BYTES,
  maxQueue: DEFAULT_MAX_QUEUE,
  maxConnections: DEFAULT_MAX_CONNECTIONS,
  retries: DEFAULT_RETRIES,
});
