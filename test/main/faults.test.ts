/**
 * Faults of the holder that the launcher must survive with a code, and the holder with its life:
 * a frozen holder (SIGSTOP), a handler that throws, rejects or never answers.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { portsFor } from '../helpers/ports.js';
import { privateDir } from '../helpers/dirs.js';
import { killAll, type Child } from '../helpers/child.js';
import { holder, type HardConfig } from '../helpers/hard.js';
import { requestSingleInstance, type Delivery, type SingleInstanceOptions } from '../../src/main/index.js';
import { rejectsWith } from '../helpers/errors.js';

const { port } = portsFor(import.meta.url);

const secretDir = privateDir('lock-socket-faults-');
after(async () => {
  killAll();
});

/** A launch from this process; it must be forwarded (a primary here means the holder was gone). */
async function launch(cfg: HardConfig, argv: string[], options: Partial<SingleInstanceOptions> = {}) {
  const instance = await requestSingleInstance({ port: cfg.port, appId: cfg.appId, secretDir: cfg.secretDir, argv, ...options });
  if (instance.isPrimary) {
    await instance.close();
    throw new Error('this launch became primary: the holder was not serving');
  }
  return instance;
}

function tags(p: Child): string[] {
  return p.events('launch').map((l) => (l['argv'] as string[])[0] as string);
}

describe('a frozen holder (SIGSTOP)', () => {
  test('launchers time out with EHANDSHAKETIMEOUT, the holder is not killed, and serves again after SIGCONT', { timeout: 60_000 }, async (t) => {
    const cfg: HardConfig = { port: port(0), appId: 'com.example.faults.frozen', secretDir };
    const h = await holder(cfg);
    await launch(cfg, ['before-stop']);
    process.kill(h.pid, 'SIGSTOP');
    try {
      const started = Date.now();
      // Several at once: each one has its own deadline; none waits for another.
      const attempts = ['frozen-0', 'frozen-1', 'frozen-2'].map((tag) => rejectsWith(launch(cfg, [tag], { handshakeTimeout: 500 }), 'EHANDSHAKETIMEOUT'));
      await Promise.all(attempts);
      const elapsed = Date.now() - started;
      t.diagnostic(`3 launches against a stopped holder failed with EHANDSHAKETIMEOUT after ${elapsed} ms (handshakeTimeout 500 ms)`);
      assert.ok(elapsed < 15_000, 'hang guard: the handshake timeout bounds the wait');
      assert.ok(h.running, 'the stopped holder was not killed');
    } finally {
      process.kill(h.pid, 'SIGCONT');
    }
    const served = await launch(cfg, ['after-cont']);
    assert.deepEqual(served.reply?.data, { argv: ['after-cont'] });
    // The timed-out launches never sent their argv (the holder had not proved itself), so the
    // holder, once thawed, never sees them: nothing is delivered behind the launcher's back.
    assert.ok(h.running);
    h.send('close');
    assert.equal((await h.closed).code, 0);
    assert.deepEqual(tags(h), ['before-stop', 'after-cont']);
  });
});

describe('a handler that fails', () => {
  test('throws → EHANDLER, rejects → EHANDLER, never answers → EREPLYTIMEOUT; the holder keeps serving', { timeout: 60_000 }, async () => {
    const cfg: HardConfig = { port: port(1), appId: 'com.example.faults.handler', secretDir };
    const h = await holder(cfg);

    await rejectsWith(launch(cfg, ['throws', '--hard-throw']), 'EHANDLER');
    assert.ok((await launch(cfg, ['ok-1'])).reply, 'served after a handler threw');

    await rejectsWith(launch(cfg, ['rejects', '--hard-reject']), 'EHANDLER');
    assert.ok((await launch(cfg, ['ok-2'])).reply, 'served after a handler rejected');

    let delivery: Delivery | undefined;
    await rejectsWith(launch(cfg, ['silent', '--hard-never'], { replyTimeout: 300, onDelivered: (d) => (delivery = d) }), 'EREPLYTIMEOUT');
    assert.equal(delivery?.holderPid, h.pid, 'delivered is reported before the reply times out');
    const last = await launch(cfg, ['ok-3']);
    assert.deepEqual(last.reply, { exitCode: 0, message: 'received', data: { argv: ['ok-3'] } });

    assert.ok(h.running);
    h.send('close');
    assert.equal((await h.closed).code, 0);
    assert.deepEqual(tags(h), ['throws', 'ok-1', 'rejects', 'ok-2', 'silent', 'ok-3'], 'each launch delivered once, in order');
  });
});
