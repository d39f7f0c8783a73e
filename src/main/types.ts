import type { Readable, Writable } from 'node:stream';

/** Any value JSON can carry: what `data` and a reply's `data` may hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What a launch carries over the wire. */
export interface LaunchData {
  /** The launcher's argv, byte-exact and in order (process.argv unless overridden). */
  argv: string[];
  /** The launcher's working directory. */
  cwd: string;
  /** The launcher's `data` option, or undefined when it sent none. */
  data: JsonValue | undefined;
  /** Only the variables the launcher opted into with `env`, and only those it had set. */
  env: Record<string, string>;
  /** The launcher's process id. */
  pid: number;
}

/**
 * A launch forwarded by a later instance, as the holder receives it: its data, and the
 * launcher's standard streams (not enumerable, so `JSON.stringify(launch)` and `{ ...launch }`
 * see only the data).
 */
export interface Launch extends LaunchData {
  /**
   * Written to the launcher's stdout, in order with `stderr`, before the reply (reply after
   * writing; what is written after the reply is not sent). `write()` returns false while the
   * launcher's terminal is behind: wait for 'drain'.
   */
  readonly stdout: Writable;
  /** Written to the launcher's stderr; as `stdout`. */
  readonly stderr: Writable;
  /** The launcher's stdin when it sends it (`forwardLaunch({ stdin })`); otherwise it ends at once. */
  readonly stdin: Readable;
}

/** The holder's answer to a launch. */
export interface LaunchReply {
  /** Integer 0-255: the exit code the launcher is expected to end with. */
  exitCode: number;
  message?: string;
  data?: JsonValue;
}

export type ReplyFunction = (reply: LaunchReply) => void;
export type SecondInstanceListener = (launch: Launch, reply: ReplyFunction) => void | Promise<void>;

/** What a launcher learns when the holder has accepted its launch, before the reply. */
export interface Delivery {
  /** The holder's process id. */
  holderPid: number;
  /** True when the launch waits in the holder's queue because no handler is attached yet. */
  queued: boolean;
}

/** What `instanceStatus()` and `solo --status` report about the holder of a lock. */
export interface HolderStatus {
  addr: string;
  port: number;
  pid: number;
  appId: string;
  /** lock-socket's version in the holder. */
  version: string;
  /** When the holder took the lock (ms since the epoch). */
  startedAt: number;
  /** True when the holder proved it knows this user's secret for `appId`. */
  verified: boolean;
}
