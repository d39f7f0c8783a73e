/**
 * Load and faults with real processes: 50 launches started at once with nobody holding the lock
 * (one must win, the other 49 are each delivered once, byte-exact, and answered), and the holder
 * SIGKILLed in the middle of a storm (every launch accounted for, a new holder takes over).
 *
 * LOCK_SOCKET_STORM_ROUNDS sets the number of rounds (default 1, the full size is 20).
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { portsFor } from '../helpers/ports.js';
import { privateDir } from '../helpers/dirs.js';
import { killAll, type Child, type Line } from '../helpers/child.js';
import { holder, instance, nastyArgv, type HardConfig } from '../helpers/hard.js';
import { isErrorCode } from '../../src/main/errors.js';

const { port } = portsFor(import.meta.url);
const ROUNDS = Number(process.env['LOCK_SOCKET_STORM_ROUNDS'] ?? 1);
const LAUNCHES = 50;

const secretDir = privateDir('lock-socket-storm-');
after(async () => {
  killAll();
});

function config(i: number, extra: Partial<HardConfig> = {}): HardConfig {
  return { port: port(i), appId: `com.example.storm.${i}`, secretDir, ...extra };
}

/** Resolves when every process has printed its first line (started or outcome) or exited. */
async function settled(procs: Child[], timeoutMs: number): Promise<void> {
  await Promise.all(procs.map((p) => p.until(() => p.lines[0] ?? (!p.running || undefined), timeoutMs, 'a first line')));
}

function tagOf(line: Line): string {
  return (line['argv'] as string[])[0] as string;
}

describe('storm: 50 launches at once', () => {
  for (let round = 0; round < ROUNDS; round++) {
    test(`round ${round + 1}/${ROUNDS}: one primary, 49 delivered exactly once, byte-exact, answered`, { timeout: 90_000 }, async (t) => {
      const cfg = config(0);
      const procs = Array.from({ length: LAUNCHES }, (_, i) => instance(cfg, nastyArgv(`storm-${round}-${i}`)));
      // A failed round must not leave its holder behind to serve (and spoil) the next rounds.
      t.after(() => killAll());
      await settled(procs, 60_000);
      const primaries = procs.filter((p) => p.lines[0]?.event === 'started');
      assert.equal(primaries.length, 1, `exactly one primary; first lines: ${JSON.stringify(procs.map((p) => p.lines[0]?.event))}`);
      const primary = primaries[0] as Child;
      const others = procs.filter((p) => p !== primary);

      for (const p of others) {
        const { code } = await p.closed;
        const outcome = p.lines[0] as Line;
        assert.equal(outcome['ok'], true, `launch failed: ${JSON.stringify(outcome)} ${p.stderr}`);
        assert.equal(code, 0);
        const tag = `storm-${round}-${procs.indexOf(p)}`;
        const reply = outcome['reply'] as { exitCode: number; data: { argv: string[] } };
        assert.equal(reply.exitCode, 0);
        assert.deepEqual(reply.data.argv, nastyArgv(tag), 'the reply carries back exactly what was sent');
        assert.equal((outcome['delivered'] as { holderPid: number }).holderPid, primary.pid);
      }

      // Every answered launch was recorded before its reply; once the primary has exited, its
      // whole stdout is here, so a duplicate delivery could not hide.
      primary.send('close');
      assert.equal((await primary.closed).code, 0);
      const launches = primary.events('launch');
      const tags = launches.map(tagOf).sort();
      const expected = others.map((p) => `storm-${round}-${procs.indexOf(p)}`).sort();
      assert.deepEqual(tags, expected, 'each launch delivered exactly once');
      for (const launch of launches) {
        assert.deepEqual(launch['argv'], nastyArgv(tagOf(launch)), 'argv byte-exact, order kept');
        assert.equal(launch['cwd'], process.cwd());
      }
      t.diagnostic(`round ${round + 1}: primary pid ${primary.pid}, ${launches.length} launches delivered`);
    });
  }
});

describe('the holder SIGKILLed in the middle of a storm', () => {
  test('every launch is answered or fails with a code, a new holder takes over, nothing is delivered twice', { timeout: 90_000 }, async (t) => {
    // A short delay before each reply leaves launches accepted-but-unanswered when the kill lands.
    const cfg = config(1, { replyDelay: 30 });
    const first = await holder(cfg);
    const procs = Array.from({ length: LAUNCHES }, (_, i) => instance(cfg, nastyArgv(`kill-${i}`)));
    await first.until(() => first.events('launch').length >= 10, 60_000, '10 launches at the first holder');
    first.kill('SIGKILL');
    await first.closed;
    await settled(procs, 60_000);

    const tallies = { answered: 0, failed: 0, primary: 0 };
    const codes: Record<string, number> = {};
    let newHolder: Child | undefined;
    for (const p of procs) {
      const outcome = p.lines[0];
      assert.ok(outcome, `launch ${procs.indexOf(p)} printed nothing: ${p.stderr}`);
      if (outcome.event === 'started') {
        tallies.primary++;
        newHolder = p;
        continue;
      }
      const { code } = await p.closed;
      assert.equal(outcome.event, 'outcome');
      if (outcome['ok'] === true) {
        assert.equal(code, 0);
        tallies.answered++;
      } else {
        assert.ok(isErrorCode(outcome['code']), `not a coded failure: ${JSON.stringify(outcome)} ${p.stderr}`);
        assert.equal(code, 1, 'a failed launch exits non-zero');
        tallies.failed++;
        const c = outcome['code'] as string;
        codes[c] = (codes[c] ?? 0) + 1;
      }
    }
    t.diagnostic(`outcomes: ${JSON.stringify(tallies)}, failure codes: ${JSON.stringify(codes)}`);
    assert.equal(tallies.answered + tallies.failed + tallies.primary, LAUNCHES, 'no launch unaccounted for');
    assert.ok(tallies.primary <= 1, 'at most one new holder at a time');

    // One of them became the new holder, or else the next launch does.
    const later = instance(cfg, nastyArgv('kill-later'));
    await settled([later], 30_000);
    if (newHolder) {
      assert.equal(later.lines[0]?.['ok'], true, JSON.stringify(later.lines[0]));
    } else {
      assert.equal(later.lines[0]?.event, 'started', JSON.stringify(later.lines[0]));
      newHolder = later;
    }

    newHolder.send('close');
    assert.equal((await newHolder.closed).code, 0);
    if (later !== newHolder) await later.closed;
    // Nothing delivered twice, across both holders; every answered launch was delivered.
    const recorded = [...first.events('launch'), ...newHolder.events('launch')].map(tagOf);
    assert.equal(new Set(recorded).size, recorded.length, `a launch was delivered twice: ${recorded.sort().join(' ')}`);
    for (const p of procs) {
      if (p.lines[0]?.['ok'] === true) assert.ok(recorded.includes(`kill-${procs.indexOf(p)}`));
    }
    assert.ok(
      newHolder.events('launch').length + tallies.failed + tallies.primary > 0,
      'the kill landed in the middle of the storm: some launch did not reach the first holder',
    );
  });
});
