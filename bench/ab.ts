/**
 * A/B of two builds of the launch path, in one process, so both see the same noise: each build
 * runs its own holder (PORTS.abA and abB) and launches alternate between them. Two copies of the
 * same build differ by about 1 %, P3's ratio between runs by 10 %, so this is how to size a
 * change worth a few percent (docs/benchmarks.md, P3).
 *
 * Usage (after a build): cp -r dist/src /tmp/a; cp -r dist/src /tmp/b; edit /tmp/b; then
 *   node dist/bench/ab.js /tmp/a /tmp/b [launches]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type * as Main from '../src/main/index.js';
import { ADDR, ARGV, PORTS } from './ports.js';
import { interleave, summarize, time } from './stats.js';

const [dirA, dirB, countText] = process.argv.slice(2);
if (!dirA || !dirB) throw new Error('usage: node dist/bench/ab.js <build A: a copy of dist/src> <build B> [launches]');
const count = Number(countText ?? 4000);
const load = (dir: string): Promise<typeof Main> => import(path.resolve(dir, 'main', 'index.js')) as Promise<typeof Main>;
const [a, b] = await Promise.all([load(dirA), load(dirB)]);
const secretDir = mkdtempSync(path.join(tmpdir(), 'lock-socket-ab-'));
const options = (port: number): Main.SingleInstanceOptions => ({ port, addr: ADDR, appId: 'lock-socket-ab', secretDir });
const builds = [
  { m: a, o: options(PORTS.abA) },
  { m: b, o: options(PORTS.abB) },
];
const holders = await Promise.all(builds.map((build) => build.m.requestSingleInstance(build.o)));
for (const holder of holders) {
  if (!holder.isPrimary) throw new Error(`port ${holder.port} is held by pid ${holder.holderPid}`);
  holder.on('second-instance', (_launch, reply) => reply({ exitCode: 0 }));
}
async function launch(build: (typeof builds)[number]): Promise<void> {
  const instance = await build.m.requestSingleInstance({ ...build.o, argv: ARGV });
  if (instance.isPrimary) throw new Error('a launch became primary');
}
let samples: bigint[][];
try {
  // Warm-up as long as the run: V8 keeps optimising the launch for ~2000 of them.
  samples = await interleave(
    builds.map((build) => () => time(() => launch(build))),
    count,
    count,
  );
} finally {
  await Promise.all(holders.map((holder) => holder.close()));
  rmSync(secretDir, { recursive: true, force: true });
}
const [ma, mb] = samples.map((s) => summarize(s).median * 1000) as [number, number];
console.log(`A ${dirA}: ${ma.toFixed(1)} µs   B ${dirB}: ${mb.toFixed(1)} µs   B/A ${(mb / ma).toFixed(3)}   (${count} launches each, medians)`);
