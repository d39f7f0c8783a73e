/** Summaries of timing samples. Samples are nanoseconds (bigint from process.hrtime.bigint()). */

export interface Summary {
  n: number;
  /** Milliseconds. */
  median: number;
  p99: number;
  min: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function summarize(samples: bigint[]): Summary {
  if (samples.length === 0) throw new Error('no samples');
  const ms = samples.map((ns) => Number(ns) / 1e6).sort((a, b) => a - b);
  const mid = ms.length >> 1;
  const median = ms.length % 2 === 1 ? (ms[mid] as number) : ((ms[mid - 1] as number) + (ms[mid] as number)) / 2;
  return { n: ms.length, median, p99: percentile(ms, 99), min: ms[0] as number };
}

/** A duration in ms with sensible precision: 0.042 ms, 1.23 ms, 45.6 ms, 1234 ms. */
export function ms(value: number): string {
  if (value < 1) return `${value.toFixed(3)} ms`;
  if (value < 10) return `${value.toFixed(2)} ms`;
  if (value < 100) return `${value.toFixed(1)} ms`;
  return `${value.toFixed(0)} ms`;
}

/** A difference in ms with its sign: +2.21 ms, -0.991 ms. */
export function signed(value: number): string {
  return `${value < 0 ? '-' : '+'}${ms(Math.abs(value))}`;
}

/** Runs `fn` and returns how long its promise took, in ns. */
export async function time(fn: () => Promise<unknown>): Promise<bigint> {
  const start = process.hrtime.bigint();
  await fn();
  return process.hrtime.bigint() - start;
}

/**
 * Interleaves several measured actions: each round runs every action once, in an order that
 * rotates from round to round, so drift and "who runs right after whom" hit all of them alike.
 * `warmup` rounds run first and are thrown away. Returns the samples of each action.
 */
export async function interleave(actions: (() => Promise<bigint>)[], rounds: number, warmup: number): Promise<bigint[][]> {
  const samples: bigint[][] = actions.map(() => []);
  for (let round = -warmup; round < rounds; round++) {
    for (let k = 0; k < actions.length; k++) {
      const i = (((round + k) % actions.length) + actions.length) % actions.length;
      const ns = await (actions[i] as () => Promise<bigint>)();
      if (round >= 0) (samples[i] as bigint[]).push(ns);
    }
  }
  return samples;
}
