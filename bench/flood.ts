/**
 * P8, the row issue 12 implies: forwarded launches while the holder is flooded as that issue's
 * review flooded it — 64 connections at all times each sending a 1 MiB HELLO of nested brackets,
 * and 400 new idle connections a second (bench/fixtures/flood.ts). Protocol 1 let either flood
 * stop real launches (every one timed out, or 1–2 of 30 got through); protocol 2 caps a HELLO
 * from its header and evicts idle strangers. The launches are in-process, alternated between two
 * holder processes alike but for the flood aimed at one of them; every launch must be delivered.
 * The flood comes from this user, not another uid: the holder's admission does not look at uids.
 */
import { requestSingleInstance } from '../src/main/index.js';
import { LockSocketError } from '../src/main/errors.js';
import { ADDR, APP_ID, ARGV, PORTS } from './ports.js';
import { background, fixture, startHolder } from './procs.js';
import { interleave, summarize, type Summary } from './stats.js';

export interface FloodSamples {
  quiet: Summary;
  flooded: Summary;
  /** Launches to the flooded holder that were answered, of those tried (warm-up included). */
  delivered: number;
  tried: number;
  /** Why the others failed: error code → count. */
  failures: Record<string, number>;
  hellos: number;
  idle: number;
  seconds: number;
}

export async function floodRow(secretDir: string, rounds: number, warmup: number): Promise<FloodSamples> {
  const [quiet, flooded] = await Promise.all([startHolder(PORTS.p8Quiet, 0, APP_ID, secretDir), startHolder(PORTS.p8Flooded, 0, APP_ID, secretDir)]);
  // The flood's own limit is a backstop: it is stopped as soon as the launches are done.
  const flood = background([fixture('flood'), String(PORTS.p8Flooded), '64', '400', '60']);
  const failures: Record<string, number> = {};
  let tried = 0;
  let delivered = 0;
  const started = process.hrtime.bigint();
  try {
    await flood.ready;
    // Let both floods reach their steady state (64 HELLOs in flight, 32 idle strangers held).
    await new Promise((resolve) => setTimeout(resolve, 500));
    const launch = async (port: number, counted: boolean): Promise<bigint> => {
      const start = process.hrtime.bigint();
      try {
        const instance = await requestSingleInstance({ port, addr: ADDR, appId: APP_ID, secretDir, argv: ARGV });
        if (instance.isPrimary) throw new Error(`P8: a launch became primary on ${port}`);
        if (counted && instance.reply?.exitCode === 0) delivered++;
      } catch (error) {
        if (!counted || !(error instanceof LockSocketError)) throw error;
        failures[error.code] = (failures[error.code] ?? 0) + 1;
      } finally {
        if (counted) tried++;
      }
      return process.hrtime.bigint() - start;
    };
    const [quietSamples, floodedSamples] = await interleave([() => launch(PORTS.p8Quiet, false), () => launch(PORTS.p8Flooded, true)], rounds, warmup);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    flood.child.kill('SIGTERM');
    const [hellos, idle] = (await flood.exited).trim().split('\n').at(-1)!.split(' ').map(Number) as [number, number];
    return { quiet: summarize(quietSamples as bigint[]), flooded: summarize(floodedSamples as bigint[]), delivered, tried, failures, hellos, idle, seconds };
  } finally {
    flood.child.kill('SIGKILL');
    await Promise.all([quiet.stop(), flooded.stop()]);
  }
}
