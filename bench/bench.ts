/**
 * `npm run bench`: how fast lock-socket is, as ratios against what raw Node does on the same
 * machine in the same run (absolute times drift on a shared machine; ratios hold). Not a test:
 * nothing here fails the build. See docs/benchmarks.md for a recorded run and what it means.
 *
 * Arguments pick rows (`node dist/bench/bench.js P3 P7`). BENCH_SCALE=0.5 halves every
 * iteration count (a quick look), 2 doubles it (steadier medians). BENCH_KEEP_ENV=1 keeps the
 * slow-start variables for child processes (see env.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { describeMachine } from './env.js';
import { forwardRow, heldRow, lockRow, peerRow } from './inproc.js';
import { floodRow } from './flood.js';
import { cliRow } from './cli.js';
import { burstRow, importRow, processRow, takeoverRow } from './process.js';
import { APP_ID } from './ports.js';
import { snapshotPackage } from './procs.js';
import { loadOrCreateSecretSync } from '../src/main/secret.js';
import { ms, signed, type Summary } from './stats.js';

/** `node dist/bench/bench.js P3 P7` runs only those rows. */
const only = process.argv.slice(2);
const scale = Number(process.env['BENCH_SCALE'] ?? '1');
const n = (count: number): number => Math.max(3, Math.round(count * (Number.isFinite(scale) && scale > 0 ? scale : 1)));

interface Line {
  row: string;
  what: string;
  runs: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
  result: string;
}

const lines: Line[] = [];
const notes: string[] = [];

function both(s: Summary, p99: boolean): string {
  return p99 ? `${ms(s.median)} (p99 ${ms(s.p99)})` : ms(s.median);
}

function ratioLine(row: string, what: string, runs: string, value: Summary, baseline: Summary, label: string, max: number | undefined, p99 = false): void {
  const ratio = value.median / baseline.median;
  lines.push({
    row,
    what,
    runs,
    value: both(value, p99),
    baseline: `${label}: ${both(baseline, p99)}`,
    ratio: `${ratio.toFixed(2)}x`,
    target: max === undefined ? 'report' : `≤ ${max.toFixed(2)}x`,
    result: max === undefined ? '—' : ratio <= max ? 'PASS' : 'MISS',
  });
}

/**
 * Runs one group of rows. A row that throws (a launch not delivered, a fixture that crashed) is
 * printed as ERROR with its reason, and the other rows still run.
 */
async function section(name: string, body: () => Promise<void>): Promise<void> {
  if (only.length > 0 && !only.includes(name)) return;
  try {
    await body();
    process.stderr.write(`  ${name} done (${(performance.now() / 1000).toFixed(1)} s)\n`);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    lines.push({ row: name, what: 'ERROR', runs: '—', value: '—', baseline: '—', ratio: '—', target: '—', result: `ERROR: ${reason}` });
    process.stderr.write(`  ${name} failed: ${reason}\n`);
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'lock-socket-bench-'));
const secretDir = path.join(dir, 'secrets');
snapshotPackage(dir);
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
try {
  // Every row finds the secret on disk, as every launch but an app's very first does (the
  // hand-written launchers and holders read it; they never create it).
  loadOrCreateSecretSync(APP_ID, secretDir);
  console.log('lock-socket bench');
  for (const line of describeMachine()) console.log(`  ${line}`);
  console.log('');

  await section('P1', async () => {
    const rounds = n(2000);
    const p1 = await lockRow(rounds, n(200));
    ratioLine('P1', 'tryLock + unlock, free port', `${rounds} each`, p1.value, p1.baseline, 'raw listen + close', 1.3);
  });
  await section('peer', async () => {
    const rounds = n(500);
    const peer = await peerRow(dir, rounds, n(50));
    ratioLine('peer', 'proper-lockfile lock + release', `${rounds} each`, peer.value, peer.baseline, 'P1 tryLock + unlock', undefined);
  });
  await section('P2', async () => {
    const rounds = n(2000);
    const p2 = await heldRow(rounds, n(200));
    ratioLine('P2', 'tryLock on a held port → false', `${rounds} each`, p2.value, p2.baseline, 'raw listen → EADDRINUSE', 1.3);
  });
  await section('P3', async () => {
    const rounds = n(1000);
    // P3 is the steady hand-off (P4 the cold one), and a launch runs far more JavaScript than the
    // baseline: V8 keeps optimising it for ~2500 rounds (docs/benchmarks.md, fix 17), so 3000
    // rounds of warm-up measure the plateau. The parts loop then runs the same, warm, functions.
    const p3 = await forwardRow(secretDir, rounds, n(3000), n(300));
    ratioLine('P3', 'forwarded launch in-process (detect, secret, connect, prove, sealed argv and reply)', `${rounds} each`, p3.value, p3.baseline, 'hand-written, same work (bench/raw.ts)', 1.3, true);
    const parts = p3.parts;
    if (parts) {
      const rest = parts.launch.median - parts.secret.median - parts.held.median - parts.forward.median;
      const rawRest = parts.raw.median - parts.rawSecret.median - parts.rawHeld.median - parts.rawForward.median;
      notes.push(
        `P3 parts, ${parts.n} rounds interleaved in one loop: whole launch ${ms(parts.launch.median)} = secret read and key ${ms(parts.secret.median)}` +
          ` + failed listen (detect the holder) ${ms(parts.held.median)} + forward() (connect, 2 round trips, HKDF, 4 HMACs, 4 AES-GCM records) ${ms(parts.forward.median)}` +
          ` + the rest (options, objects, awaits) ${ms(rest)}; hand-written: ${ms(parts.raw.median)} = ${ms(parts.rawSecret.median)} + ${ms(parts.rawHeld.median)} + ${ms(parts.rawForward.median)}` +
          ` + ${ms(rawRest)}; whole launch over hand-written: ${(parts.launch.median / parts.raw.median).toFixed(2)}x, forward() over its hand-written exchange: ${(parts.forward.median / parts.rawForward.median).toFixed(2)}x;` +
          ` a plain unsealed RPC (connect, one JSON line each way; the retired P3's baseline): ${ms(parts.rpc.median)}, whole launch over it ${(parts.launch.median / parts.rpc.median).toFixed(2)}x.`,
      );
    }
  });
  await section('P4', async () => {
    const rounds = n(30);
    const p4 = await processRow(secretDir, rounds, n(4));
    ratioLine('P4', 'second-instance process: start, forward, exit', `${rounds} each, alternated`, p4.value, p4.baseline, 'hand-written launcher (bench/raw.ts)', 1.1, true);
    notes.push(`P4: \`node -e ""\` in the same rounds: ${both(p4.empty, true)}; lock-socket launcher minus it: ${ms(p4.value.median - p4.empty.median)}, hand-written launcher minus it: ${ms(p4.baseline.median - p4.empty.median)}.`);
  });
  await section('CLI', async () => {
    const rounds = n(30);
    const cli = await cliRow(secretDir, rounds, n(4));
    ratioLine('CLI', "example-app's command line (node dist/cli.js ARGS): start, forward, reply, exit", `${rounds} each, alternated`, cli.value, cli.baseline, 'hand-written CLI (bench/raw.ts)', 1.1, true);
    const all = cli.delivered === cli.sent && cli.rawDelivered === cli.rawSent;
    if (!all) (lines[lines.length - 1] as Line).result = 'MISS (lost launches)';
    notes.push(
      `CLI: \`node -e ""\` in the same rounds: ${both(cli.empty, true)}; the CLI minus it: ${ms(cli.value.median - cli.empty.median)}, the hand-written CLI minus it: ${ms(cli.baseline.median - cli.empty.median)}; ` +
        `the sh wrapper on its own (bin/lock-socket-example exec'ing \`true\`; not in the ratio): ${both(cli.wrapper, true)}. ` +
        `${cli.delivered} of ${cli.sent} CLI launches and ${cli.rawDelivered} of ${cli.rawSent} hand-written ones (warm-up included) reached the holder: ${all ? 'all delivered' : 'NOT all delivered'}. ` +
        `An Electron second instance spends 236–793 ms before it even reaches its lock call (johannesjo/parallel-code#270): ${(236 / cli.value.median).toFixed(1)}–${(793 / cli.value.median).toFixed(1)} times this whole CLI launch.`,
    );
  });
  await section('P5', async () => {
    // Four bursts of each kind after one of warm-up, the two kinds alternated: P5 is most of the
    // whole bench's time.
    const rounds = n(4);
    const count = 50;
    const p5 = await burstRow(secretDir, count, rounds, 1);
    ratioLine('P5', `${count} launches at once, one holder`, `${rounds} bursts each, alternated`, p5.value, p5.baseline, `${count} hand-written launchers at once`, 1.1);
    const all = p5.delivered === p5.sent && p5.rawDelivered === p5.rawSent;
    notes.push(
      `P5: ${p5.delivered} of ${p5.sent} lock-socket launches and ${p5.rawDelivered} of ${p5.rawSent} hand-written ones (warm-up included) reached the holder, ` +
        `and every launcher exited 0 with its reply: ${all ? 'all delivered' : 'NOT all delivered'}.`,
    );
    if (!all) {
      const last = lines[lines.length - 1] as Line;
      last.result = 'MISS (lost launches)';
    }
  });
  await section('P6', async () => {
    const rounds = n(15);
    const p6 = await takeoverRow(secretDir, rounds, n(2));
    lines.push({
      row: 'P6',
      what: 'holder SIGKILLed → next launch (in-process requestSingleInstance) is primary',
      runs: `${rounds}, alternated with the floor`,
      value: both(p6.value, true),
      baseline: `kernel floor (raw listen retried every tick): ${both(p6.floor, true)}`,
      ratio: `${(p6.value.median / p6.floor.median).toFixed(2)}x`,
      target: '< 50 ms',
      result: p6.value.median < 50 && p6.value.p99 < 50 ? 'PASS' : p6.value.median < 50 ? 'PASS (median; p99 over)' : 'MISS',
    });
  });
  await section('P7', async () => {
    const rounds = n(25);
    const p7 = await importRow(dir, secretDir, rounds, n(2));
    const delta = p7.main.median - p7.empty.median;
    lines.push({
      row: 'P7',
      what: "import('lock-socket/main') in-process, fresh process, ESM loader warm",
      runs: `${rounds} processes each, alternated`,
      value: both(p7.main, false),
      baseline: `empty package: ${both(p7.empty, false)}`,
      ratio: signed(delta),
      target: '≤ +3 ms',
      result: delta <= 3 ? 'PASS' : 'MISS',
    });
    notes.push(
      `P7: import('lock-socket') (the lock alone): ${ms(p7.root.median)}, ${signed(p7.root.median - p7.empty.median)} over the empty package; ` +
        `import('lock-socket/main') with node:net, node:crypto etc. imported first (lock-socket's own code): ${ms(p7.own.median)}, ` +
        `${signed(p7.own.median - p7.emptyBuiltins.median)} over the empty package imported the same way (${ms(p7.emptyBuiltins.median)}); ` +
        `an empty package that loads node:net: ${ms(p7.net.median)}, ${signed(p7.net.median - p7.empty.median)}.`,
    );
    notes.push(
      `P7 end to end, an app's start: import('lock-socket/main') + requestSingleInstance() as primary (secret on disk): ${ms(p7.primary.median)}; ` +
        `the empty package + a raw exclusive listen: ${ms(p7.rawPrimary.median)}; ${signed(p7.primary.median - p7.rawPrimary.median)}. ` +
        `node:crypto loaded by the primary: ${p7.primaryLoadedCrypto ? 'yes' : 'no'}.`,
    );
  });

  await section('P8', async () => {
    // ~3 s of flood: each 1 MiB HELLO connection is refused and held for LINGER_MS (1 s), so the
    // holder sees the HELLO flood renewed a few times over.
    const rounds = n(300);
    const p8 = await floodRow(secretDir, rounds, n(50));
    const all = p8.delivered === p8.tried;
    lines.push({
      row: 'P8',
      what: 'forwarded launch in-process while the holder is flooded (64 × 1 MiB HELLOs in flight, 400 idle connections/s)',
      runs: `${rounds} each, alternated`,
      value: both(p8.flooded, true),
      baseline: `the same launch, holder not flooded: ${both(p8.quiet, true)}`,
      ratio: `${(p8.flooded.median / p8.quiet.median).toFixed(2)}x`,
      target: 'all delivered',
      result: all ? 'PASS' : 'MISS',
    });
    const failed = Object.entries(p8.failures).map(([code, count]) => `${count} ${code}`).join(', ');
    notes.push(
      `P8: ${p8.delivered} of ${p8.tried} launches to the flooded holder delivered (warm-up included)${failed ? `; failed: ${failed}` : ''}; ` +
        `the flood opened ${p8.hellos} 1 MiB-HELLO connections and ${p8.idle} idle ones in ${p8.seconds.toFixed(1)} s.`,
    );
  });

  const header: Line = { row: 'row', what: 'what', runs: 'runs', value: 'lock-socket median', baseline: 'baseline median', ratio: 'ratio', target: 'target', result: 'result' };
  const keys = Object.keys(header) as (keyof Line)[];
  console.log(`| ${keys.map((k) => header[k]).join(' | ')} |`);
  console.log(`|${keys.map(() => '---').join('|')}|`);
  for (const line of lines) console.log(`| ${keys.map((k) => line[k]).join(' | ')} |`);
  console.log('');
  for (const note of notes) console.log(note);
  console.log(`\nwhole bench: ${(performance.now() / 1000).toFixed(1)} s; load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
