/**
 * The bench's ports: 30000–30999 on 127.0.0.1 only. Tests use 20000–29000 (every checkout's
 * LOCK_SOCKET_TEST_PORT_BASE block lies there), and nothing here may reach the ephemeral range
 * at 32768. One port per role, so rows never meet.
 */
export const ADDR = '127.0.0.1';
export const APP_ID = 'lock-socket-bench';
/** The command line every forwarded launch of the bench carries. */
export const ARGV = ['/usr/bin/app', '--open', '/home/user/notes/todo.md', '--new-window'];

export const PORTS = {
  p1Lib: 30001,
  p1Raw: 30002,
  p2Held: 30003,
  p3Lib: 30010,
  p3Raw: 30011,
  p3Rpc: 30012,
  p4Lib: 30020,
  p4Raw: 30021,
  p5Lib: 30030,
  p5Raw: 30031,
  p6Lib: 30040,
  p7Lock: 30050,
  abA: 30060,
  abB: 30061,
  p8Quiet: 30070,
  p8Flooded: 30071,
  /** The CLI row: example-app's command line (its own appId, below) and the hand-written one. */
  cliLib: 30080,
  cliRaw: 30081,
} as const;

/** example-app's appId (example-app/config.ts), which its command line always sends. */
export const EXAMPLE_APP_ID = 'com.example.lock-socket';
