/**
 * The CLI row: example-app's command line as a whole process — `node dist/cli.js ARGS`, what its
 * wrapper runs, node standing in for the Electron binary in Node mode — from spawn to exit:
 * start, forward to a running holder, reply, exit. Against it, in the same rounds, the
 * hand-written command line of the same shape (fixtures/raw-cli.ts, bench/raw.ts's exchange) to
 * the same holder process, `node -e ""`, and the sh wrapper on its own (priced apart: see
 * docs/benchmarks.md, "CLI").
 */
import path from 'node:path';
import { lockEndpoints, secretPath } from '../src/main/index.js';
import { loadOrCreateSecretSync } from '../src/main/secret.js';
import { ARGV, EXAMPLE_APP_ID, PORTS } from './ports.js';
import { cliApp, exitedOk as ok, fixture, run, startHolder } from './procs.js';
import { interleave, summarize, type Summary } from './stats.js';

export interface CliSamples {
  /** The CLI, `node dist/cli.js ARGS`. */
  value: Summary;
  /** The hand-written command line. */
  baseline: Summary;
  /** `node -e ""`. */
  empty: Summary;
  /** `sh bin/lock-socket-example ARGS` exec'ing `true` instead of the binary: the wrapper's own cost. */
  wrapper: Summary;
  /** Launches the holder counted against those started (warm-up included), per side. */
  delivered: number;
  sent: number;
  rawDelivered: number;
  rawSent: number;
}

export async function cliRow(secretDir: string, rounds: number, warmup: number): Promise<CliSamples> {
  const app = cliApp();
  // The command line names a port (LOCK_SOCKET_EXAMPLE_PORT) and no address, so its lock is on
  // this user's default address (127.0.0.1 for root): the holder listens there.
  const [endpoint] = lockEndpoints({ appId: EXAMPLE_APP_ID, port: PORTS.cliLib });
  if (!endpoint) throw new Error('no endpoint for the CLI row');
  loadOrCreateSecretSync(EXAMPLE_APP_ID, secretDir);
  const holder = await startHolder(PORTS.cliLib, PORTS.cliRaw, EXAMPLE_APP_ID, secretDir, endpoint.addr);
  // The CLI forwards [its executable, ...its arguments]: the same command line as the other rows.
  const args = ARGV.slice(1);
  const common = { ELECTRON_RUN_AS_NODE: '1', LOCK_SOCKET_EXAMPLE_SECRET_DIR: secretDir };
  const cliEnv = {
    ...common,
    LOCK_SOCKET_EXAMPLE_PORT: String(PORTS.cliLib),
    // A CLI that finds no holder starts the GUI and exits 0; here that GUI is a node that does
    // nothing, and the holder's count below tells the row it happened.
    LOCK_SOCKET_EXAMPLE_GUI: JSON.stringify([process.execPath, '-e', '']),
  };
  const rawEnv = {
    ...common,
    LOCK_SOCKET_EXAMPLE_PORT: String(PORTS.cliRaw),
    LOCK_SOCKET_BENCH_ADDR: endpoint.addr,
    LOCK_SOCKET_BENCH_KEY_FILE: secretPath(EXAMPLE_APP_ID, secretDir),
  };
  let sent = 0;
  let rawSent = 0;
  try {
    const [lib, raw, empty, wrapper] = await interleave(
      [
        async () => {
          sent++;
          return ok(await run([path.join(app, 'dist', 'cli.js'), ...args], { env: cliEnv }), 'CLI');
        },
        async () => {
          rawSent++;
          return ok(await run([fixture('raw-cli'), ...args], { env: rawEnv }), 'hand-written CLI');
        },
        async () => ok(await run(['-e', '']), 'node -e ""'),
        // The wrapper's own cost: sh finding the entry and exec'ing the binary, here `true`,
        // which does nothing (the CLI beside it is what the binary would run).
        async () => ok(await run([path.join(app, 'bin', 'lock-socket-example'), ...args], { command: '/bin/sh', env: { LOCK_SOCKET_EXAMPLE_ELECTRON: 'true' } }), 'the sh wrapper'),
      ],
      rounds,
      warmup,
    );
    // Every CLI exited 0, which it also does after starting a GUI: the holder's counts say each
    // was forwarded.
    await holder.caughtUp(sent, rawSent);
    return {
      value: summarize(lib as bigint[]),
      baseline: summarize(raw as bigint[]),
      empty: summarize(empty as bigint[]),
      wrapper: summarize(wrapper as bigint[]),
      delivered: holder.launches(),
      sent,
      rawDelivered: holder.rawLaunches(),
      rawSent,
    };
  } finally {
    await holder.stop();
  }
}
