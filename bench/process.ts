/** The process-level rows: P4 (one second-instance process), P5 (50 at once), P6 (takeover), P7 (import). */
import { once } from 'node:events';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { requestSingleInstance, secretPath } from '../src/main/index.js';
import type { Pair } from './inproc.js';
import { ADDR, APP_ID, ARGV, PORTS } from './ports.js';
import { exitedOk as ok, fixture, packageRoot, run, sourceFixture, startHolder } from './procs.js';
import { interleave, summarize, type Summary } from './stats.js';

/** P4: lock-socket launcher process vs the hand-written one (bench/raw.ts), with `node -e ""` beside them. */
export async function processRow(secretDir: string, rounds: number, warmup: number): Promise<Pair & { empty: Summary }> {
  const holder = await startHolder(PORTS.p4Lib, PORTS.p4Raw, APP_ID, secretDir);
  const key = secretPath(APP_ID, secretDir);
  try {
    const [lib, raw, empty] = await interleave(
      [
        async () => ok(await run([fixture('launcher'), String(PORTS.p4Lib), APP_ID, secretDir, ...ARGV]), 'P4 launcher'),
        async () => ok(await run([fixture('raw-launcher'), String(PORTS.p4Raw), APP_ID, key, ...ARGV]), 'P4 raw launcher'),
        async () => ok(await run(['-e', '']), 'node -e ""'),
      ],
      rounds,
      warmup,
    );
    return { value: summarize(lib as bigint[]), baseline: summarize(raw as bigint[]), empty: summarize(empty as bigint[]) };
  } finally {
    await holder.stop();
  }
}

/** Starts `count` copies of a command at once; resolves with the time until the last has exited. */
async function burst(count: number, args: string[], what: string): Promise<bigint> {
  const start = process.hrtime.bigint();
  const exits = await Promise.all(Array.from({ length: count }, () => run(args)));
  const ns = process.hrtime.bigint() - start;
  const failed = exits.filter((e) => e.code !== 0);
  if (failed.length > 0) throw new Error(`${what}: ${failed.length} of ${count} failed (exit ${failed.map((e) => e.code ?? e.signal).join(',')})`);
  return ns;
}

/**
 * P5: 50 lock-socket launcher processes at once against one holder vs 50 hand-written launchers
 * (bench/raw.ts) at once against the same holder process, bursts alternated.
 */
export async function burstRow(
  secretDir: string,
  count: number,
  rounds: number,
  warmup: number,
): Promise<Pair & { delivered: number; sent: number; rawDelivered: number; rawSent: number }> {
  const holder = await startHolder(PORTS.p5Lib, PORTS.p5Raw, APP_ID, secretDir);
  const key = secretPath(APP_ID, secretDir);
  let sent = 0;
  let rawSent = 0;
  try {
    const [lib, raw] = await interleave(
      [
        async () => {
          const ns = await burst(count, [fixture('launcher'), String(PORTS.p5Lib), APP_ID, secretDir, ...ARGV], 'P5 launchers');
          sent += count;
          return ns;
        },
        async () => {
          const ns = await burst(count, [fixture('raw-launcher'), String(PORTS.p5Raw), APP_ID, key, ...ARGV], 'P5 raw launchers');
          rawSent += count;
          return ns;
        },
      ],
      rounds,
      warmup,
    );
    // Every launcher exited 0, which it only does after the holder's reply; the holder's own
    // counts must agree.
    await holder.caughtUp(sent, rawSent);
    return {
      value: summarize(lib as bigint[]),
      baseline: summarize(raw as bigint[]),
      delivered: holder.launches(),
      sent,
      rawDelivered: holder.rawLaunches(),
      rawSent,
    };
  } finally {
    await holder.stop();
  }
}

/** Raw Node's floor for P6: try to listen in a loop (one try per event-loop turn) until the port is free. */
async function rawTakeover(port: number): Promise<void> {
  for (;;) {
    const server = createServer();
    server.listen({ host: ADDR, port, exclusive: true });
    const [event] = await Promise.race([once(server, 'listening').then(() => ['ok']), once(server, 'error')]);
    if (event === 'ok') {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * P6: SIGKILL the holder, then measure until the next launch is primary. The next launch is an
 * in-process requestSingleInstance (its own retry loop, nothing added by the bench); the kernel
 * floor beside it is a raw listen retried every event-loop turn.
 */
export async function takeoverRow(secretDir: string, rounds: number, warmup: number): Promise<{ value: Summary; floor: Summary }> {
  const sample = async (lib: boolean): Promise<bigint> => {
    const holder = await startHolder(PORTS.p6Lib, 0, APP_ID, secretDir);
    const start = process.hrtime.bigint();
    holder.child.kill('SIGKILL');
    let ns: bigint;
    if (lib) {
      const next = await requestSingleInstance({ port: PORTS.p6Lib, addr: ADDR, appId: APP_ID, secretDir, argv: ARGV });
      ns = process.hrtime.bigint() - start;
      if (!next.isPrimary) throw new Error('P6: the next launch was forwarded to a dead holder');
      await next.close();
    } else {
      await rawTakeover(PORTS.p6Lib);
      ns = process.hrtime.bigint() - start;
    }
    await holder.exited;
    return ns;
  };
  const [lib, floor] = await interleave([() => sample(true), () => sample(false)], rounds, warmup);
  return { value: summarize(lib as bigint[]), floor: summarize(floor as bigint[]) };
}

/**
 * P7: a temporary app with node_modules holding two empty packages and lock-socket (a symlink to
 * this checkout), and the probe beside them. Each sample is a fresh process.
 */
export interface ImportSamples {
  main: Summary;
  root: Summary;
  empty: Summary;
  /** lock-socket/main and the empty package, each with the built-ins imported before the clock. */
  own: Summary;
  emptyBuiltins: Summary;
  /** An empty package that loads node:net the way the bundle does (getBuiltinModule). */
  net: Summary;
  /** Import and take the lock as a primary does (secret on disk), against empty + a raw listen. */
  primary: Summary;
  rawPrimary: Summary;
  /** Whether any primary sample had node:crypto loaded at its end. */
  primaryLoadedCrypto: boolean;
}

export async function importRow(dir: string, secretDir: string, rounds: number, warmup: number): Promise<ImportSamples> {
  const app = path.join(dir, 'import-app');
  const packages: Record<string, string> = {
    'empty-warm': 'export {};\n',
    empty: 'export {};\n',
    'net-only': "process.getBuiltinModule('node:net');\nexport {};\n",
  };
  for (const [name, code] of Object.entries(packages)) {
    const pkg = path.join(app, 'node_modules', name);
    mkdirSync(pkg, { recursive: true });
    writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', exports: './index.js' }));
    writeFileSync(path.join(pkg, 'index.js'), code);
  }
  symlinkSync(packageRoot(), path.join(app, 'node_modules', 'lock-socket'), 'dir');
  const probe = path.join(app, 'probe.mjs');
  copyFileSync(sourceFixture('import-probe.mjs'), probe);
  let primaryLoadedCrypto = false;
  const measure = async (specifier: string, mode = ''): Promise<bigint> => {
    const args = mode === 'primary' ? [String(PORTS.p7Lock), APP_ID, secretDir] : [];
    const exit = await run([probe, specifier, mode, ...args], { captureStdout: true });
    if (exit.code !== 0) throw new Error(`P7 probe for ${specifier} ${mode} exited with ${exit.code}`);
    const [ns, crypto] = exit.stdout.trim().split(' ');
    if (mode === 'primary' && specifier.startsWith('lock-socket') && crypto === '1') primaryLoadedCrypto = true;
    return BigInt(ns ?? '');
  };
  const samples = await interleave(
    [
      () => measure('lock-socket/main'),
      () => measure('lock-socket'),
      () => measure('empty'),
      () => measure('lock-socket/main', 'builtins'),
      // The baseline of the line above: importing the built-ins leaves work behind that lands in
      // the next import (~3 ms here), so "own code" compares two imports that both follow it.
      () => measure('empty', 'builtins'),
      () => measure('net-only'),
      () => measure('lock-socket/main', 'primary'),
      () => measure('empty', 'primary'),
    ],
    rounds,
    warmup,
  );
  const [main, root, empty, own, emptyBuiltins, net, primary, rawPrimary] = samples.map((s) => summarize(s as bigint[])) as Summary[] as [
    Summary, Summary, Summary, Summary, Summary, Summary, Summary, Summary,
  ];
  return { main, root, empty, own, emptyBuiltins, net, primary, rawPrimary, primaryLoadedCrypto };
}
