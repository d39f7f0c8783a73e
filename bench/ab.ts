/**
 * A/B of two builds of the launch path, in one process, so both see the same noise: each build
 * runs its own holder (ports 29060, 29061) and launches alternate between them. Two copies of the
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
import { ADDR, PORTS } from './ports.js';

const [dirA, dirB, countText] = process.argv.slice(2);
if (!dirA || !dirB) throw new Error('usage: node dist/bench/ab.js <build A: a copy of dist/src> <build B> [launches]');
const count = Number(countText ?? 4000);
const load = (dir: string): Promise<typeof Main> => import(path.resolve(dir, 'main', 'index.js')) as Promise<typeof Main>;
const [a, b] = await Promise.all([load(dirA), load(dirB)]);
const secretDir = mkdtempSync(path.join(tmpdir(), 'lock-socket-ab-'));
const argv = ['/usr/bin/app', '--open', '/home/user/notes/todo.md', '--new-window'];
const options = (port: number): Main.SingleInstanceOptions => ({ port, addr: ADDR, appId: 'lock-socket-ab', secretDir });
const sides = [
  { m: a, o: options(PORTS.abA), samples: [] as number[] },
  { m: b, o: options(PORTS.abB), samples: [] as number[] },
];
const holders = await Promise.all(sides.map((side) => side.m.requestSingleInstance(side.o)));
for (const holder of holders) {
  if (!holder.isPrimary) throw new Error(`port ${holder.port} is held by pid ${holder.holderPid}`);
  holder.on('second-instance', (_launch, reply) => reply({ exitCode: 0 }));
}
async function launch(side: (typeof sides)[number]): Promise<number> {
  const start = process.hrtime.bigint();
  const instance = await side.m.requestSingleInstance({ ...side.o, argv });
  if (instance.isPrimary) throw new Error('a launch became primary');
  return Number(process.hrtime.bigint() - start) / 1e3;
}
try {
  // Warm-up as long as the run (V8 keeps optimising the launch for ~2000 of them), then the
  // order alternates each round so that "who runs right after whom" hits both builds alike.
  for (let i = 0; i < count; i++) for (const side of sides) await launch(side);
  for (let i = 0; i < count; i++) {
    for (const side of i % 2 ? [...sides].reverse() : sides) side.samples.push(await launch(side));
  }
} finally {
  await Promise.all(holders.map((holder) => holder.close()));
  rmSync(secretDir, { recursive: true, force: true });
}
const median = (values: number[]): number => values.sort((x, y) => x - y)[values.length >> 1] as number;
const [ma, mb] = sides.map((side) => median(side.samples)) as [number, number];
console.log(`A ${dirA}: ${ma.toFixed(1)} µs   B ${dirB}: ${mb.toFixed(1)} µs   B/A ${(mb / ma).toFixed(3)}   (${count} launches each, medians)`);
