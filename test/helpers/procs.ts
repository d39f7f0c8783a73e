/** Child processes for tests: spawn a compiled fixture, read its JSON lines, always clean up. */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}.js`, import.meta.url));
}

export interface Proc {
  child: ChildProcess;
  /** Every JSON line printed so far. */
  events: Record<string, any>[];
  /** Resolves with the first event matching `pred` (rejects on exit without it). */
  waitFor(pred: (e: Record<string, any>) => boolean, what?: string): Promise<Record<string, any>>;
  /** Resolves with the exit code (or 128+signal) once the process has exited. */
  exited: Promise<number>;
  stderr(): string;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export function start(name: string, args: string[] = [], config?: object, options: SpawnOptions = {}): Proc {
  const env = { ...process.env, ...(options.env ?? {}), ...(config ? { LOCK_SOCKET_FIXTURE: JSON.stringify(config) } : {}) };
  const child = spawn(process.execPath, [fixture(name), ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...options, env });
  live.add(child);
  const events: Record<string, any>[] = [];
  const waiters: (() => void)[] = [];
  let err = '';
  child.stderr?.on('data', (d) => (err += d));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      events.push(JSON.parse(line));
    } catch {
      events.push({ event: 'text', line });
    }
    waiters.forEach((w) => w());
  });
  const exited = new Promise<number>((resolve) =>
    child.on('exit', (code, signal) => {
      live.delete(child);
      waiters.forEach((w) => w());
      resolve(code ?? 128 + (signal ? (({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2 }) as Record<string, number>)[signal] ?? 0 : 0));
    }),
  );
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    events,
    exited,
    stderr: () => err,
    waitFor(pred, what = 'event') {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = events.find(pred);
          if (hit) return resolve(hit), true;
          if (done || child.exitCode !== null || child.signalCode !== null) {
            return reject(new Error(`process exited without ${what}; events ${JSON.stringify(events)}; stderr ${err}`)), true;
          }
          return false;
        };
        if (!check()) waiters.push(() => void check());
      });
    },
  };
}

/** Ends a fixture: closes stdin (the polite way), then SIGKILL after a grace period. */
export async function stop(proc: Proc, graceMs = 3000): Promise<number> {
  proc.child.stdin?.end();
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  const code = await proc.exited;
  clearTimeout(timer);
  return code;
}
