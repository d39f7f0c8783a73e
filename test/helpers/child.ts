/**
 * Child processes for tests: one class that runs a script (usually a compiled fixture) on this
 * Node, reads the JSON lines it prints, waits for a line or the exit under a hang guard, and is
 * always cleaned up. A wait that fails names the child's last lines and its stderr, so a broken
 * run explains itself instead of hanging the file.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

// Only a guard against hangs: generous, because a 2-core machine running other test files next
// to a 50-process storm can take tens of seconds to start a Node process.
export const HANG_GUARD_MS = 90_000;

/** The compiled fixture script `name` (no extension): test/fixtures/NAME.ts as built in dist. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}.js`, import.meta.url));
}

/**
 * One line a child printed: its JSON object, or `{ event: 'text', text }` for anything else.
 * Loosely typed on purpose: what a fixture prints is exactly what the tests assert on.
 */
export type Line = Record<string, any> & { event?: string };

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

// Every child that has not exited yet. A test file that fails or is cancelled halfway must not
// leave a holder behind to squat its ports for the next run: killAll() for a file's `after`, and
// the same at process exit as a last resort.
const live = new Set<Child>();
process.on('exit', () => killAll());

/** SIGKILLs every child still running (SIGCONT first, so one a test froze is not left stopped). */
export function killAll(): void {
  for (const child of live) {
    try {
      child.process.kill('SIGCONT');
      child.process.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

export class Child {
  /** Node's handle, for what this class does not wrap (a signal to forward, a raw stdout tap). */
  readonly process: ChildProcess;
  /** Every line printed so far, in order; complete once `closed` has resolved. */
  readonly lines: Line[] = [];
  /** The process has exited; its last lines may still be in the pipe. */
  readonly exited: Promise<Exit>;
  /** The process has exited and all of its output has been read. */
  readonly closed: Promise<Exit>;
  stderr = '';
  #taken = 0; // lines already handed out by next()
  #outputEnded = false;
  #exit: Exit | undefined;
  #spawnError: Error | undefined;
  readonly #wakes = new Set<() => void>();

  /**
   * Runs `process.execPath` with `args`: Node flags if any, then the script and its arguments;
   * or `command` instead of Node (a Perl or Python one-liner standing in for another program).
   */
  constructor(args: string[], { command = process.execPath, ...options }: SpawnOptions & { command?: string } = {}) {
    this.process = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
    live.add(this);
    this.process.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.process.stdin?.on('error', () => {}); // writing to a child that died is not the test's error
    if (this.process.stdout) {
      const reader = createInterface({ input: this.process.stdout });
      reader.on('line', (text) => {
        this.lines.push(parse(text));
        this.#wake();
      });
      reader.on('close', () => {
        this.#outputEnded = true;
        this.#wake();
      });
    } else {
      this.#outputEnded = true;
    }
    // Both reject only if the spawn itself failed ('error' instead of 'exit').
    const failed = new Promise<never>((_, reject) =>
      this.process.on('error', (error) => {
        live.delete(this);
        this.#spawnError = error;
        this.#wake();
        reject(error);
      }),
    );
    const exited = new Promise<Exit>((resolve) =>
      this.process.once('exit', (code, signal) => {
        live.delete(this);
        this.#exit = { code, signal };
        this.#wake();
        resolve(this.#exit);
      }),
    );
    const closed = new Promise<Exit>((resolve) => this.process.once('close', (code, signal) => resolve({ code, signal })));
    this.exited = Promise.race([failed, exited]);
    this.closed = Promise.race([failed, closed]);
    // A test that never awaits them must not crash on a failed spawn.
    this.exited.catch(() => {});
    this.closed.catch(() => {});
  }

  get pid(): number {
    if (this.process.pid === undefined) throw new Error('child did not start');
    return this.process.pid;
  }

  get running(): boolean {
    return this.#exit === undefined && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** The lines of one event. */
  events(event: string): Line[] {
    return this.lines.filter((line) => line.event === event);
  }

  /**
   * The first value of `check` that is neither undefined nor false, re-checked on every line and
   * at exit. Rejects once the child has exited and printed everything without it (nothing can
   * change then), or after `timeoutMs`: a hang guard; Infinity leaves that to the test runner.
   */
  async until<T>(check: () => T | undefined | false, timeoutMs = HANG_GUARD_MS, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined && value !== false) return value;
      if (this.#spawnError) throw this.#failure(`no ${what}: the child did not start (${this.#spawnError.message})`);
      if (this.#exit && this.#outputEnded) throw this.#failure(`no ${what}: child ${this.pid} exited ${JSON.stringify(this.#exit)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw this.#failure(`no ${what} within ${timeoutMs} ms from child ${this.pid}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#wakes.delete(wake);
          resolve();
        };
        const timer = Number.isFinite(left) ? setTimeout(wake, left) : undefined;
        this.#wakes.add(wake);
      });
    }
  }

  /** The first line, printed so far or to come, for which `pred` holds. */
  find(pred: (line: Line) => boolean, timeoutMs = HANG_GUARD_MS, what = 'matching line'): Promise<Line> {
    return this.until(() => this.lines.find(pred), timeoutMs, what);
  }

  /** The next line not yet handed out by next(): for a child that answers step by step. */
  async next<T = Line>(timeoutMs = HANG_GUARD_MS): Promise<T> {
    // Taken inside the check, synchronously, so two callers never get the same line.
    const hit = await this.until(() => (this.#taken < this.lines.length ? { line: this.lines[this.#taken++] } : undefined), timeoutMs, 'next line');
    return hit.line as T;
  }

  /** The exit, under a hang guard. */
  exit(timeoutMs = HANG_GUARD_MS): Promise<Exit> {
    return this.until(() => this.#exit, timeoutMs, 'exit');
  }

  /** Writes one line to the child's stdin (ignored if it has gone). */
  send(line: string): void {
    this.process.stdin?.write(line + '\n');
  }

  /** Closes the child's stdin: the polite "you may go now" for the fixtures that read it. */
  endInput(): void {
    this.process.stdin?.end();
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.running) this.process.kill(signal);
  }

  /** Ends the child: stdin closed first, SIGKILL after `graceMs`; resolves once its output is read. */
  async stop(graceMs = 3000): Promise<Exit> {
    this.endInput();
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    try {
      return await this.closed;
    } finally {
      clearTimeout(timer);
    }
  }

  #wake(): void {
    for (const wake of [...this.#wakes]) wake();
  }

  #failure(reason: string): Error {
    const last = this.lines.slice(-10).map((line) => JSON.stringify(line)).join('\n');
    return new Error(`${reason}; its last lines:\n${tail(last) || '(none)'}\nits stderr:\n${tail(this.stderr) || '(none)'}`);
  }
}

function parse(text: string): Line {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null) return value as Line;
  } catch {
    // not JSON: kept as text below
  }
  return { event: 'text', text };
}

/** The end of a long text: the last lines and stderr are where a failure shows. */
function tail(text: string, max = 2000): string {
  return text.length > max ? `…${text.slice(-max)}` : text;
}

/** True while a process with this pid exists, ours or not (signal 0 only checks). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
