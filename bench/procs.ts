/** Child processes for the bench: timed runs and long-running holders, all cleaned up on exit. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { cpSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { childEnv } from './env.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
let snapshot: string | undefined;
let cliSnapshot: string | undefined;

/**
 * Copies what child processes load — package.json, dist/src, dist/pkg (the bundles users import), the compiled fixtures with
 * the hand-written protocol they share (dist/bench/raw.js), and the .mjs ones — into `dir`, laid out like an installed package,
 * and example-app's command line beside it (snapshotCli). Other work in the same checkout may
 * rebuild dist/ while the bench runs; children then still load the build this run started with,
 * the one the in-process rows already imported.
 */
export function snapshotPackage(dir: string): string {
  const root = path.join(dir, 'lock-socket');
  cpSync(path.join(repo, 'package.json'), path.join(root, 'package.json'));
  cpSync(path.join(repo, 'dist', 'src'), path.join(root, 'dist', 'src'), { recursive: true });
  cpSync(path.join(repo, 'dist', 'pkg'), path.join(root, 'dist', 'pkg'), { recursive: true });
  cpSync(path.join(repo, 'dist', 'bench', 'fixtures'), path.join(root, 'dist', 'bench', 'fixtures'), { recursive: true });
  cpSync(path.join(repo, 'dist', 'bench', 'raw.js'), path.join(root, 'dist', 'bench', 'raw.js'));
  cpSync(path.join(repo, 'bench', 'fixtures'), path.join(root, 'bench', 'fixtures'), { recursive: true, filter: (f) => !f.endsWith('.ts') });
  snapshot = root;
  cliSnapshot = snapshotCli(dir);
  return root;
}

/**
 * example-app's command line laid out as a packaged app has it (resources/app.asar.unpacked):
 * the app's package.json, dist/cli.js and dist/config.js (compiled by `tsc -p example-app`, which
 * `npm run bench` runs), bin/ with the wrappers, and node_modules/lock-socket holding what the
 * package ships to run (package.json, dist/pkg), copied rather than linked as an install does.
 * Undefined when example-app is not compiled: the CLI row then reports an error.
 */
function snapshotCli(dir: string): string | undefined {
  const app = path.join(repo, 'example-app');
  if (!existsSync(path.join(app, 'dist', 'cli.js'))) return undefined;
  const root = path.join(dir, 'cli-app');
  cpSync(path.join(app, 'package.json'), path.join(root, 'package.json'));
  for (const file of ['cli.js', 'config.js']) cpSync(path.join(app, 'dist', file), path.join(root, 'dist', file));
  cpSync(path.join(app, 'bin'), path.join(root, 'bin'), { recursive: true });
  const lib = path.join(root, 'node_modules', 'lock-socket');
  cpSync(path.join(repo, 'package.json'), path.join(lib, 'package.json'));
  cpSync(path.join(repo, 'dist', 'pkg'), path.join(lib, 'dist', 'pkg'), { recursive: true });
  return root;
}

/** The snapshot of example-app's command line (see snapshotCli). */
export function cliApp(): string {
  if (cliSnapshot === undefined) throw new Error('example-app/dist/cli.js is missing: run `tsc -p example-app` first (`npm run bench` does)');
  return cliSnapshot;
}

function root(): string {
  if (snapshot === undefined) throw new Error('snapshotPackage() first');
  return snapshot;
}

/** A compiled fixture (bench/fixtures/x.ts → dist/bench/fixtures/x.js), from the snapshot. */
export function fixture(name: string): string {
  return path.join(root(), 'dist', 'bench', 'fixtures', `${name}.js`);
}

/** A plain .mjs fixture, which tsc does not compile, from the snapshot. */
export function sourceFixture(name: string): string {
  return path.join(root(), 'bench', 'fixtures', name);
}

/** The snapshot's package root (P7 links it into a node_modules). */
export function packageRoot(): string {
  return root();
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
// Ctrl-C or a kill: leave through 'exit', so no holder or launcher outlives the bench.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

export interface Exit {
  /** From spawn() to the 'exit' event. */
  ns: bigint;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
}

/** The time of a run that exited 0; throws, naming `what`, for any other end. */
export function exitedOk(exit: Exit, what: string): bigint {
  if (exit.code !== 0) throw new Error(`${what} exited with ${exit.code ?? exit.signal}`);
  return exit.ns;
}

export interface RunOptions {
  captureStdout?: boolean;
  /** Added to childEnv(). */
  env?: NodeJS.ProcessEnv;
  /** Default: this Node (process.execPath). */
  command?: string;
}

/** Starts `node args...` (or `command args...`) and resolves when it has exited, with the time from spawn to exit. */
export function run(args: string[], options: RunOptions = {}): Promise<Exit> {
  const { captureStdout = false, env = {}, command = process.execPath } = options;
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ['ignore', captureStdout ? 'pipe' : 'ignore', 'inherit'], env: { ...childEnv(), ...env } });
    live.add(child);
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.once('error', reject);
    // Timed at 'exit' (the process is gone); resolved at 'close', once its stdout is drained too.
    let ns = 0n;
    child.once('exit', () => {
      ns = process.hrtime.bigint() - start;
      live.delete(child);
    });
    child.once('close', (code, signal) => resolve({ ns, code, signal, stdout }));
  });
}

export interface Holder {
  child: ChildProcess;
  pid: number;
  /** lock-socket launches the holder has received so far. */
  launches(): number;
  /** Hand-written (bench/raw.ts) launches it has received so far. */
  rawLaunches(): number;
  /**
   * Resolves once the counts reach `launches` and `rawLaunches`, or after half a second: the
   * holder prints one line per launch, read asynchronously, so a launcher's exit can come first.
   */
  caughtUp(launches: number, rawLaunches: number): Promise<void>;
  exited: Promise<void>;
  stop(): Promise<void>;
}

/** Starts the holder fixture (on 127.0.0.1 unless `addr` is given) and resolves once it listens. */
export function startHolder(port: number, rawPort: number, appId: string, secretDir: string, addr?: string): Promise<Holder> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture('holder'), String(port), String(rawPort), appId, secretDir, ...(addr ? [addr] : [])], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: childEnv(),
    });
    live.add(child);
    let launches = 0;
    let rawLaunches = 0;
    const exited = new Promise<void>((done) => child.once('exit', () => (live.delete(child), done())));
    void exited.then(() => reject(new Error(`holder on port ${port} exited before it was ready`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line === 'L') launches++;
      else if (line === 'R') rawLaunches++;
      else if (line.startsWith('ready ')) {
        resolve({
          child,
          pid: Number(line.slice(6)),
          launches: () => launches,
          rawLaunches: () => rawLaunches,
          caughtUp: async (want, rawWant) => {
            for (let i = 0; i < 50 && (launches < want || rawLaunches < rawWant); i++) await new Promise((r) => setTimeout(r, 10));
          },
          exited,
          stop: async () => {
            child.kill('SIGKILL');
            await exited;
          },
        });
      }
    });
  });
}

export interface Background {
  child: ChildProcess;
  /** Resolves with the first line the child prints (its "ready" line). */
  ready: Promise<string>;
  /** Resolves with everything it printed, once it has exited. */
  exited: Promise<string>;
}

/** Starts `node args...` in the background; it is killed if the bench exits first. */
export function background(args: string[]): Background {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: childEnv() });
  live.add(child);
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const ready = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${path.basename(args[0] ?? 'child')} exited with ${code} before it was ready`)));
  });
  const exited = new Promise<string>((resolve) => child.once('close', () => (live.delete(child), resolve(stdout))));
  return { child, ready, exited };
}
