/**
 * The sealed channel with a relay in the middle (test/helpers/tamper.ts), between a real launcher
 * process and a real holder process that both name the same endpoint, so every key matches and
 * only the tampering can break the conversation. Each case asserts the launcher's code and
 * whether the holder's handler ran, because the code is a promise about exactly that:
 *
 * - EAUTH before anything was sent, or from the holder's sealed refusal: nothing ran;
 * - EINDOUBT: the launch was sent and never confirmed: it may have run (and here it sometimes did);
 * - after an authenticated ACCEPTED: delivered, whatever happens to the reply.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { portsFor } from '../helpers/ports.js';
import { privateDir } from '../helpers/dirs.js';
import { killAll, type Child, type Line } from '../helpers/child.js';
import { holder as startHolder, instance, type HardConfig } from '../helpers/hard.js';
import { At, dial, drop, duplicate, flip, matches, Session, Squat, swallowAfter, swap, type Passing, type Tamper } from '../helpers/tamper.js';
import { endpointOf, keysOf, Raw } from '../fixtures/hard-wire.js';
import { FrameType } from '../../src/main/frame.js';
import { decodeChallenge } from '../../src/main/messages.js';
import { Opener } from '../../src/main/seal.js';
import { loadOrCreateSecretSync } from '../../src/main/secret.js';

const { port } = portsFor(import.meta.url);
const secretDir = privateDir('lock-socket-channel-');
const APP = 'com.example.channel';
after(() => killAll());

let nextPort = 0;
function config(p: number, extra: Partial<HardConfig> = {}): HardConfig {
  // A long handshake timeout: on a loaded machine the relay's dance (squat, holder start, dial)
  // must never be what fails a case. The one case about the timeout sets its own.
  return { port: p, addr: '127.0.0.1', appId: APP, secretDir, handshakeTimeout: 20_000, ...extra };
}

interface Run {
  port: number;
  holder: Child;
  launcher: Child;
  session: Session;
  /** The launcher's outcome line, or its 'started' line if it became primary. */
  outcome: Line;
}

interface Through {
  tamper?: Tamper;
  launcher?: Partial<HardConfig>;
  holder?: Partial<HardConfig>;
  passHolderClose?: boolean;
  /** Runs once the relay is in place, before the launcher's outcome is awaited. */
  meanwhile?: (run: Omit<Run, 'outcome'>) => Promise<void>;
}

/**
 * One launch through a relay in the middle of a working channel: the relay squats the lock's
 * address:port, the launcher connects to it, the relay stops listening, the holder (already
 * loaded, waiting for "go") takes the port, and the relay dials it. Both sides name the same
 * endpoint, so the keys agree and the channel works unless the relay tampers with it.
 */
async function through(argv: string[], o: Through = {}): Promise<Run> {
  const p = port(nextPort++);
  const holder = instance(config(p, { ...o.holder, waitForGo: true }));
  await holder.find((l) => l.event === 'ready', undefined, 'the holder loaded');
  const squat = await Squat.listen(p);
  const launcher = instance(config(p, o.launcher), argv);
  let socket: Socket;
  try {
    socket = await squat.accepted();
  } finally {
    squat.close();
  }
  holder.send('go');
  const up = await holder.find((l) => l.event === 'started' || l.event === 'outcome', undefined, 'the holder to take the port');
  assert.equal(up.event, 'started', `the holder did not become primary: ${JSON.stringify(up)}`);
  const session = new Session(socket, await dial(p), { ...(o.tamper ? { tamper: o.tamper } : {}), passHolderClose: o.passHolderClose ?? true });
  await o.meanwhile?.({ port: p, holder, launcher, session });
  const outcome = await launcher.find((l) => l.event === 'outcome' || l.event === 'started', undefined, "the launcher's outcome");
  return { port: p, holder, launcher, session, outcome };
}

/** The launcher's code: 'ok' for a reply, 'primary' if it took the lock, else its error code. */
function codeOf(run: Run): string {
  if (run.outcome.event === 'started') return 'primary';
  return run.outcome['ok'] === true ? 'ok' : String(run.outcome['code']);
}

/** Ends the run's processes; resolves with every argv the holder's handler received. */
async function finish(run: Run): Promise<string[][]> {
  run.holder.send('close');
  if (run.outcome.event === 'started') run.launcher.send('close');
  await Promise.all([run.holder.exit(), run.launcher.exit()]);
  await run.holder.closed;
  run.session.close();
  return run.holder.events('launch').map((l) => l['argv'] as string[]);
}

/** What went up after the HELLO: the frames the launcher sent once it had read the CHALLENGE. */
function sentAfterHello(run: Run): number[] {
  return run.session.log.filter((p) => p.dir === 'up' && !matches(p, At.HELLO)).map((p) => p.type);
}

/** The payload offset of a letter of the CHALLENGE's nonce: its 0x20 bit flips its case, so it stays base64 and the JSON stays valid. */
function nonceLetter(p: Passing): number {
  const payload = p.bytes.subarray(5);
  const key = Buffer.from('"nonce":"');
  const start = payload.indexOf(key, 6 + 32) + key.length;
  for (let i = start + 4; i < payload.length; i++) {
    const c = payload[i] as number;
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return i;
  }
  throw new Error('no letter in the nonce');
}

// The CHALLENGE's proof starts after magic (4), version (1) and flags (1).
const PROOF_AT = 6;

describe('one bit flipped in each frame type', { timeout: 120_000 }, () => {
  test("the CHALLENGE's proof: EAUTH, nothing sent, nothing ran", async () => {
    const run = await through(['secret-argv'], { tamper: flip(At.CHALLENGE, PROOF_AT + 16) });
    assert.equal(codeOf(run), 'EAUTH', JSON.stringify(run.outcome));
    assert.deepEqual(sentAfterHello(run), [], 'the launcher sent nothing after the HELLO');
    assert.deepEqual(await finish(run), []);
  });

  test("the CHALLENGE's body (its nonce, still valid JSON and base64): EAUTH, nothing sent, nothing ran", async () => {
    const run = await through(['secret-argv'], { tamper: flip(At.CHALLENGE, nonceLetter, 0x20) });
    assert.equal(codeOf(run), 'EAUTH', JSON.stringify(run.outcome));
    assert.deepEqual(sentAfterHello(run), []);
    assert.deepEqual(await finish(run), []);
  });

  test("the launcher's FINISHED: the holder refuses it in a sealed EAUTH, nothing ran", async () => {
    const run = await through(['secret-argv'], { tamper: flip(At.FINISHED) });
    assert.equal(codeOf(run), 'EAUTH', JSON.stringify(run.outcome));
    assert.equal(run.outcome['delivered'], undefined);
    assert.deepEqual(await finish(run), []);
  });

  for (const [where, at] of [
    ['its first byte (the sealed message type)', (_p: Passing) => 0],
    ['its middle', undefined],
    ['its tag (the last byte)', (p: Passing) => p.bytes.length - 6],
  ] as const) {
    test(`the LAUNCH, at ${where}: the holder refuses it in a sealed EAUTH, nothing ran`, async () => {
      const run = await through(['secret-argv'], { tamper: flip(At.LAUNCH, at) });
      assert.equal(codeOf(run), 'EAUTH', JSON.stringify(run.outcome));
      assert.equal(run.session.frames(At.LAUNCH).length, 1);
      assert.deepEqual(await finish(run), []);
    });
  }

  test('the ACCEPTED: EINDOUBT, and the holder did run it', async () => {
    const run = await through(['accepted-flipped'], { tamper: flip(At.ANSWER) });
    // The holder ran the launch and said so; the relay broke the saying. Unauthenticated, the
    // frame could as well have been a refusal, so the launcher cannot tell "ran" from "refused":
    // EINDOUBT ("may have run") is the only true answer. Not EHANDSHAKETIMEOUT or EAUTH, which would
    // say "nothing ran" and invite a retry that runs it twice.
    assert.equal(codeOf(run), 'EINDOUBT', JSON.stringify(run.outcome));
    assert.equal(run.outcome['delivered'], undefined, 'onDelivered is not called for an unauthenticated ACCEPTED');
    assert.deepEqual(await finish(run), [['accepted-flipped']]);
  });

  test('the REPLY: EAUTH after a genuine ACCEPTED (delivered, the forged-looking reply is not taken)', async () => {
    const run = await through(['reply-flipped'], { tamper: flip(At.REPLY) });
    assert.equal(codeOf(run), 'EAUTH', JSON.stringify(run.outcome));
    assert.deepEqual(run.outcome['delivered'], { holderPid: run.holder.pid, queued: false });
    assert.deepEqual(await finish(run), [['reply-flipped']]);
  });

  test("a sealed ERROR (maxArgs exceeded): intact it is the holder's ETOOMANYARGS; flipped, EINDOUBT; nothing ran", async () => {
    const argv = ['too', 'many', 'args'];
    const intact = await through(argv, { holder: { maxArgs: 2 } });
    assert.equal(codeOf(intact), 'ETOOMANYARGS', JSON.stringify(intact.outcome));
    assert.deepEqual(await finish(intact), []);
    const run = await through(argv, { holder: { maxArgs: 2 }, tamper: flip(At.ANSWER) });
    // The same as a flipped ACCEPTED: the launcher cannot read which of the two it was.
    assert.equal(codeOf(run), 'EINDOUBT', JSON.stringify(run.outcome));
    assert.deepEqual(await finish(run), []);
  });

  test("a waiter's RELEASED: intact the waiter takes the lock; flipped, EAUTH and it does not", async () => {
    // The holder sends RELEASED when it closes; it must have the waiter's proof by then (or the
    // waiter would be an unproven peer, dropped without a word): the relay has passed the FINISHED.
    const closeOnceWaiting = async ({ holder, session }: Omit<Run, 'outcome'>): Promise<void> => {
      await until(() => session.frames(At.FINISHED).length > 0, 'the FINISHED to pass');
      await new Promise((resolve) => setTimeout(resolve, 300));
      holder.send('close');
    };
    const intact = await through([], { launcher: { waitForRelease: true }, meanwhile: closeOnceWaiting });
    assert.equal(intact.session.frames(At.ANSWER).length, 1, 'the holder sent its RELEASED');
    assert.equal(codeOf(intact), 'primary', JSON.stringify(intact.outcome));
    await finish(intact);
    const run = await through([], { launcher: { waitForRelease: true }, meanwhile: closeOnceWaiting, tamper: flip(At.ANSWER) });
    assert.equal(run.session.frames(At.ANSWER).length, 1, 'the holder sent its RELEASED');
    assert.equal(codeOf(run), 'EAUTH', JSON.stringify(run.outcome));
    await finish(run);
  });
});

describe('replayed, reordered and dropped frames', { timeout: 120_000 }, () => {
  test('the LAUNCH twice in one connection: run once; the copy is caught (EAUTH) unless the reply came first', async () => {
    const run = await through(['launch-twice'], { tamper: duplicate(At.LAUNCH) });
    // While a launch runs the holder reads its connection (stdin, windows): the copy fails to open
    // there, and the holder ends the launch with a sealed EAUTH. Only if the reply was already on
    // its way does the launcher see it first.
    assert.ok(['EAUTH', 'ok'].includes(codeOf(run)), JSON.stringify(run.outcome));
    assert.ok(codeOf(run) === 'ok' || run.outcome['delivered'], 'delivered: the first copy was genuine');
    assert.deepEqual(await finish(run), [['launch-twice']]);
  });

  test("the ACCEPTED twice: the copy is taken for the REPLY's record and fails (EAUTH), run once", async () => {
    const run = await through(['accepted-twice'], { tamper: duplicate(At.ANSWER) });
    assert.equal(codeOf(run), 'EAUTH', JSON.stringify(run.outcome));
    assert.ok(run.outcome['delivered'], 'the first copy was genuine: delivered');
    assert.deepEqual(await finish(run), [['accepted-twice']]);
  });

  test('a recorded session replayed on a new connection, both ways: nothing runs again, nothing is accepted', async () => {
    const run = await through(['recorded']);
    assert.equal(codeOf(run), 'ok', JSON.stringify(run.outcome));
    await run.launcher.exit();
    const up = run.session.log.filter((p) => p.dir === 'up');
    const down = run.session.log.filter((p) => p.dir === 'down');
    assert.deepEqual(up.map((p) => p.type), [FrameType.HELLO, FrameType.FINISHED, FrameType.SEALED]);
    assert.deepEqual(down.map((p) => p.type), [FrameType.CHALLENGE, FrameType.SEALED, FrameType.SEALED]);

    // Towards the holder: its HELLO, then (after a fresh CHALLENGE) its FINISHED and LAUNCH.
    const raw = await Raw.connect(run.port);
    const hello = up[0]!.bytes;
    await raw.write(hello);
    const challenge = decodeChallenge((await raw.next())!);
    await raw.write(Buffer.concat(up.slice(1).map((p) => p.bytes)));
    // The holder's refusal is sealed under this connection's keys, which this test (it knows the
    // secret, a replayer does not) derives to read it: EAUTH, the replayed proof is stale.
    const keys = keysOf(loadOrCreateSecretSync(APP, secretDir), { raw, hello, challenge }, endpointOf(run.port));
    assert.equal((await raw.rejection(new Opener(keys.holderKey))).code, 'EAUTH');
    assert.deepEqual(await finish(run), [['recorded']], 'run once, by the real launcher only');

    // Towards a new launcher: a fake holder on the same address:port plays the old CHALLENGE,
    // ACCEPTED and REPLY back. The launcher's nonce is new: the old proof fails, nothing is sent.
    const heard: Buffer[] = [];
    const fake = createServer((s) => {
      s.on('error', () => {});
      s.on('data', (chunk: Buffer) => heard.push(chunk));
      s.once('data', () => s.write(Buffer.concat(down.map((p) => p.bytes))));
    });
    await new Promise<void>((resolve) => fake.listen({ port: run.port, host: '127.0.0.1', exclusive: true }, () => resolve()));
    try {
      const victim = instance(config(run.port), ['victim-of-replay']);
      const outcome = await victim.find((l) => l.event === 'outcome', undefined, "the victim's outcome");
      assert.equal(outcome['code'], 'EAUTH', JSON.stringify(outcome));
      assert.deepEqual(framesIn(Buffer.concat(heard)), [FrameType.HELLO], 'the victim sent its HELLO and nothing else');
    } finally {
      await new Promise((resolve) => fake.close(resolve));
    }
  });

  test('ACCEPTED and REPLY swapped: EINDOUBT (the REPLY is not the record expected first), run once', async () => {
    const run = await through(['swapped'], { tamper: swap(At.ANSWER, At.REPLY) });
    assert.equal(codeOf(run), 'EINDOUBT', JSON.stringify(run.outcome));
    assert.deepEqual(await finish(run), [['swapped']]);
  });

  test('the ACCEPTED dropped: EINDOUBT, run once', async () => {
    const run = await through(['accepted-dropped'], { tamper: drop(At.ANSWER) });
    assert.equal(codeOf(run), 'EINDOUBT', JSON.stringify(run.outcome));
    assert.deepEqual(await finish(run), [['accepted-dropped']]);
  });

  test('the REPLY dropped: ECLOSED after a genuine ACCEPTED (delivered, no reply), run once', async () => {
    const run = await through(['reply-dropped'], { tamper: drop(At.REPLY) });
    assert.equal(codeOf(run), 'ECLOSED', JSON.stringify(run.outcome));
    assert.ok(run.outcome['delivered']);
    assert.deepEqual(await finish(run), [['reply-dropped']]);
  });
});

describe('delivery certainty', { timeout: 120_000 }, () => {
  test('a relay that passes the LAUNCH, then swallows everything: EINDOUBT at the handshake timeout, never EHANDSHAKETIMEOUT; run once', async () => {
    const run = await through(['swallowed'], {
      launcher: { handshakeTimeout: 3000 },
      tamper: swallowAfter(At.CHALLENGE, 'down'),
      passHolderClose: false,
    });
    assert.equal(codeOf(run), 'EINDOUBT', JSON.stringify(run.outcome));
    assert.equal(run.session.frames(At.LAUNCH).length, 1, 'the LAUNCH went through');
    assert.equal(run.session.frames(At.ANSWER).length, 1, "the holder's ACCEPTED was swallowed");
    assert.deepEqual(await finish(run), [['swallowed']]);
  });
});

describe('replies that cannot be sent', () => {
  test('a cycle, a BigInt, 2 MiB of data: EHANDLER at once (replyTimeout Infinity), reply() throws to the handler, the holder keeps serving', { timeout: 60_000 }, async () => {
    // No relay: nothing is tampered with, the holder's own reply is what cannot travel. With
    // replyTimeout Infinity a launcher left waiting would hang: the test timeout is the guard.
    const cfg = config(port(39));
    const h = await startHolder(cfg);
    try {
      let bad = 0;
      for (const [flag, thrown] of [
        ['--hard-reply-cycle', 'EINVALIDOPTION'],
        ['--hard-reply-bigint', 'EINVALIDOPTION'],
        ['--hard-reply-huge', 'ETOOLARGE'],
      ] as const) {
        const launcher = instance({ ...cfg, replyTimeout: 'Infinity' }, [flag]);
        const outcome = await launcher.find((l) => l.event === 'outcome', undefined, `the outcome of ${flag}`);
        assert.equal(outcome['code'], 'EHANDLER', `${flag}: ${JSON.stringify(outcome)}`);
        assert.ok(outcome['delivered'], `${flag}: delivered before the reply failed`);
        const threw = await h.until(() => h.events('reply-threw')[bad], 10_000, `reply() to throw for ${flag}`);
        assert.equal(threw['code'], thrown, `${flag}: ${JSON.stringify(threw)}`);
        bad++;
      }
      const fine = instance(cfg, ['after-the-bad-replies']);
      const outcome = await fine.find((l) => l.event === 'outcome', undefined, 'a normal launch');
      assert.deepEqual(outcome['reply'], { exitCode: 0, message: 'received', data: { argv: ['after-the-bad-replies'] } });
      assert.equal(h.events('reply-sent').length, 0);
    } finally {
      h.send('close');
      await h.exit();
    }
  });
});

/** Polls a condition the relay's own log answers (the relay runs in this process). */
async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function framesIn(bytes: Buffer): number[] {
  const types: number[] = [];
  for (let at = 0; at + 5 <= bytes.length; at += 5 + bytes.readUInt32BE(at)) types.push(bytes[at + 4] as number);
  return types;
}
