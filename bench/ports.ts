/**
 * The bench's ports: 29000–29999 on 127.0.0.1 only (tests use 20000–21100, and nothing here may
 * reach the ephemeral range at 32768). One port per role, so rows never meet.
 */
export const ADDR = '127.0.0.1';
export const APP_ID = 'lock-socket-bench';
/** The command line every forwarded launch of the bench carries. */
export const ARGV = ['/usr/bin/app', '--open', '/home/user/notes/todo.md', '--new-window'];

export const PORTS = {
  p1Lib: 29001,
  p1Raw: 29002,
  p2Held: 29003,
  p3Lib: 29010,
  p3Raw: 29011,
  p3Raw2: 29012,
  p4Lib: 29020,
  p4Raw: 29021,
  p5Lib: 29030,
  p5Raw: 29031,
  p6Lib: 29040,
  p7Lock: 29050,
  abA: 29060,
  abB: 29061,
} as const;
