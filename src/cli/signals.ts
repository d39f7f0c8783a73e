/**
 * The signals solo passes on to COMMAND. The seed's solo execs COMMAND, so every signal sent to
 * "solo" reaches COMMAND itself; solo runs COMMAND as a child instead (it must answer on the lock
 * socket meanwhile), so it forwards each signal whose default action would otherwise end solo
 * and free the lock while COMMAND runs on.
 */
import { constants } from 'node:os';

/**
 * Every signal whose default action terminates a process (with or without a core dump) and that
 * a process can catch, as far as the platform has it:
 * - not SIGKILL and SIGSTOP: they cannot be caught (COMMAND holds the lock too; see runCommand);
 * - not SIGSEGV, SIGBUS, SIGFPE and SIGILL: raised by a real fault in solo, a handler that
 *   returns would run the faulting instruction again, for ever (Node's process docs say the same);
 * - not SIGCHLD, SIGCONT, SIGURG, SIGWINCH, SIGINFO (ignored by default) nor SIGTSTP, SIGTTIN,
 *   SIGTTOU (they stop, not end; the terminal sends them to COMMAND as well).
 * SIGUSR1 is included: Node would start its inspector on it; solo has no use for that, and
 * COMMAND (a plain program) would die of it. SIGPIPE and SIGXFSZ, which Node ignores, end most
 * other programs, so they are passed on too.
 */
const TERMINATING = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTRAP', 'SIGABRT', 'SIGEMT', 'SIGUSR1', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM',
  'SIGSTKFLT', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGIO', 'SIGPWR', 'SIGSYS', 'SIGLOST', 'SIGBREAK',
] as const;

/** The signals of {@link TERMINATING} this platform has, one name per number (SIGIOT is SIGABRT). */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = (() => {
  const numbers = new Set<number>();
  const names: NodeJS.Signals[] = [];
  const known = constants.signals as Partial<Record<string, number>>;
  for (const name of TERMINATING) {
    const n = known[name];
    if (n === undefined || numbers.has(n)) continue;
    numbers.add(n);
    names.push(name as NodeJS.Signals);
  }
  return names;
})();

/**
 * Forwards every signal of {@link FORWARDED_SIGNALS} that arrives at this process to `to`, and
 * keeps them from ending this process. Returns the function that stops forwarding. A signal the
 * platform refuses to watch (Windows knows few) is skipped.
 *
 * Stopping leaves the listeners in place, only silent: removing the last listener makes libuv
 * restore the default action, and for SIGPIPE and SIGXFSZ, which Node starts out ignoring, that
 * default is death. A write to a closed stderr after COMMAND ended ("command not found") would
 * then kill solo with SIGPIPE instead of failing with EPIPE. solo exits right after anyway.
 */
export function forwardSignals(to: (signal: NodeJS.Signals) => void): () => void {
  let forwarding = true;
  const forward = (signal: NodeJS.Signals): void => {
    if (forwarding) to(signal);
  };
  for (const signal of FORWARDED_SIGNALS) {
    try {
      process.on(signal, forward);
    } catch {
      // EINVAL from libuv: not a signal this platform lets a process watch.
    }
  }
  return () => {
    forwarding = false;
  };
}
