/** What the machine and the environment are: printed with every run, recorded in docs/benchmarks.md. */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * Variables that make every `node` start slower or different. NODE_EXTRA_CA_CERTS alone parses a
 * whole CA bundle at start-up (about 40 ms on the reference machine), more than a hand-off costs.
 */
export const SLOW_START_VARS = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS', 'NODE_DEBUG', 'NODE_V8_COVERAGE', 'NODE_COMPILE_CACHE', 'NODE_PATH', 'NODE_ICU_DATA', 'UV_THREADPOOL_SIZE', 'NODE_REPL_EXTERNAL_MODULE'] as const;

export function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) return line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // not Linux: fall through
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

export function setSlowVars(env: NodeJS.ProcessEnv = process.env): string[] {
  return SLOW_START_VARS.filter((name) => env[name] !== undefined && env[name] !== '');
}

/**
 * The environment child processes run with. By default the slow-start variables are removed, so
 * the process rows compare the work itself and not a constant both sides pay (which would only
 * flatter the ratio); BENCH_KEEP_ENV=1 keeps the environment exactly as it is.
 */
export function childEnv(): NodeJS.ProcessEnv {
  if (process.env['BENCH_KEEP_ENV'] === '1') return { ...process.env };
  const env = { ...process.env };
  for (const name of SLOW_START_VARS) delete env[name];
  return env;
}

export function describeMachine(): string[] {
  const slow = setSlowVars();
  const kept = process.env['BENCH_KEEP_ENV'] === '1';
  return [
    `node ${process.version} (${process.platform}/${process.arch}), ${os.availableParallelism()} CPUs: ${cpuModel()}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    `slow-start variables set: ${slow.length === 0 ? 'none' : slow.join(', ')}` +
      (slow.length === 0 ? '' : kept ? ' (kept for child processes: BENCH_KEEP_ENV=1)' : ' (removed for child processes; BENCH_KEEP_ENV=1 keeps them)'),
  ];
}
