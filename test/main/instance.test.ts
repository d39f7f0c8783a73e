// requestSingleInstance in one process: a primary and launches against it over real sockets.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import {
  ErrorCode,
  LockSocket,
  instanceStatus,
  requestSingleInstance,
  secretPath,
  type Delivery,
  type Launch,
  type SingleInstanceOptions,
} from '../../src/main/index.js';
import { LIBRARY_VERSION } from '../../src/main/constants.js';
import { portsFor } from '../helpers/ports.js';
import { privateDir } from '../helpers/dirs.js';
import { rejectsWith } from '../helpers/errors.js';

const { port } = portsFor(import.meta.url);
const secretDir = privateDir();
const base = (i: number, extra: Partial<SingleInstanceOptions> = {}): SingleInstanceOptions => ({
  port: port(i),
  appId: 'com.example.instance-test',
  secretDir,
  argv: [],
  ...extra,
});

const tricky = [
  'first',
  '',
  'with space',
  'line\nbreak',
  '--',
  '--flag=value',
  'ünïcödé ✓ 日本語 🎉',
  '"quoted" \'single\' `tick` $HOME \\back',
  'x'.repeat(100_000),
  '-',
  'tab\there',
];

describe('forwarding in one process', () => {
  test('argv arrives byte-exact and in order, with cwd, data and only the opted-in environment', async () => {
    await using primary = await requestSingleInstance(base(0));
    assert.equal(primary.isPrimary, true);
    assert.equal(primary.holderPid, process.pid);
    const received: Launch[] = [];
    primary.on('second-instance', (launch, reply) => {
      received.push(launch);
      reply({ exitCode: 4, message: 'handled', data: { n: launch.argv.length } });
    });
    process.env['XDG_ACTIVATION_TOKEN'] = 'token-123';
    delete process.env['LOCK_SOCKET_NOT_SET'];
    const second = await requestSingleInstance(
      base(0, { argv: tricky, cwd: '/some/where', data: { deep: [1, 'two', null, { x: true }] }, env: ['XDG_ACTIVATION_TOKEN', 'LOCK_SOCKET_NOT_SET'] }),
    );
    assert.equal(second.isPrimary, false);
    assert.deepEqual(second.reply, { exitCode: 4, message: 'handled', data: { n: tricky.length } });
    assert.equal(second.holderPid, process.pid);
    assert.equal(received.length, 1);
    const launch = received[0] as Launch;
    assert.deepEqual(launch.argv, tricky);
    assert.equal(launch.cwd, '/some/where');
    assert.deepEqual(launch.data, { deep: [1, 'two', null, { x: true }] });
    assert.deepEqual(launch.env, { XDG_ACTIVATION_TOKEN: 'token-123' });
    assert.equal(launch.pid, process.pid);
  });

  test('defaults: argv is process.argv, cwd is process.cwd(), data absent', async () => {
    await using primary = await requestSingleInstance(base(1));
    let got: Launch | undefined;
    primary.on('second-instance', (launch, reply) => {
      got = launch;
      reply({ exitCode: 0 });
    });
    const { argv: _, ...noArgv } = base(1);
    await requestSingleInstance(noArgv);
    assert.deepEqual(got?.argv, process.argv);
    assert.equal(got?.cwd, process.cwd());
    assert.equal(got?.data, undefined);
  });

  test('delivery is reported before the reply, which may come after async work', async () => {
    await using primary = await requestSingleInstance(base(2));
    const order: string[] = [];
    primary.on('second-instance', async (_launch, reply) => {
      order.push('handler');
      await new Promise((r) => setTimeout(r, 100));
      order.push('reply');
      reply({ exitCode: 0, message: 'later' });
    });
    let delivery: Delivery | undefined;
    const second = await requestSingleInstance(base(2, { onDelivered: (d) => (order.push('delivered'), (delivery = d)) }));
    order.push('resolved');
    assert.deepEqual(delivery, { holderPid: process.pid, queued: false });
    assert.ok(order.indexOf('delivered') < order.indexOf('reply'), order.join());
    assert.equal(order.at(-1), 'resolved');
    assert.equal(second.reply?.message, 'later');
  });

  test('launches that arrive before a listener is attached are queued, then handed over in order', async () => {
    await using primary = await requestSingleInstance(base(3));
    const deliveries: Delivery[] = [];
    const pending = [1, 2, 3].map((n) => requestSingleInstance(base(3, { argv: [`launch-${n}`], onDelivered: (d) => deliveries.push(d) })));
    // Each launcher hears ACCEPTED a little after the holder has queued its launch: wait for both.
    while (primary.queued < 3 || deliveries.length < 3) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(deliveries.map((d) => d.queued), [true, true, true]);
    const seen: string[] = [];
    primary.on('second-instance', (launch, reply) => {
      seen.push(launch.argv[0] as string);
      reply({ exitCode: 0, message: launch.argv[0] as string });
    });
    const results = await Promise.all(pending);
    assert.deepEqual(seen.sort(), ['launch-1', 'launch-2', 'launch-3']);
    assert.deepEqual(results.map((r) => r.reply?.message).sort(), ['launch-1', 'launch-2', 'launch-3']);
    assert.equal(primary.queued, 0);
  });

  test('a full queue refuses the next launch with EQUEUEFULL, and keeps the queued ones', async () => {
    await using primary = await requestSingleInstance(base(4, { maxQueue: 2 }));
    const queued = [requestSingleInstance(base(4, { argv: ['a'] })), requestSingleInstance(base(4, { argv: ['b'] }))];
    while (primary.queued < 2) await new Promise((r) => setTimeout(r, 10));
    await rejectsWith(requestSingleInstance(base(4, { argv: ['c'] })), ErrorCode.EQUEUEFULL);
    primary.on('second-instance', (launch, reply) => reply({ exitCode: 0, message: launch.argv.join() }));
    assert.deepEqual((await Promise.all(queued)).map((r) => r.reply?.message).sort(), ['a', 'b']);
  });

  test('a handler that throws, rejects or never replies gives the launcher a code; the holder keeps serving', async () => {
    await using primary = await requestSingleInstance(base(5));
    const errors: unknown[] = [];
    primary.on('error', (e) => errors.push(e));
    primary.on('second-instance', async (launch, reply) => {
      if (launch.argv[0] === 'throw') throw new Error('sync boom');
      if (launch.argv[0] === 'reject') {
        await Promise.resolve();
        throw new Error('async boom');
      }
      if (launch.argv[0] === 'silent') return;
      if (launch.argv[0] === 'bad-reply') return reply({ exitCode: 999 });
      reply({ exitCode: 0, message: 'fine' });
    });
    const thrown = await rejectsWith(requestSingleInstance(base(5, { argv: ['throw'] })), ErrorCode.EHANDLER);
    assert.match(thrown.message, /sync boom/);
    await rejectsWith(requestSingleInstance(base(5, { argv: ['reject'] })), ErrorCode.EHANDLER);
    await rejectsWith(requestSingleInstance(base(5, { argv: ['bad-reply'] })), ErrorCode.EHANDLER);
    await rejectsWith(requestSingleInstance(base(5, { argv: ['silent'], replyTimeout: 200 })), ErrorCode.EREPLYTIMEOUT);
    const ok = await requestSingleInstance(base(5, { argv: ['ok'] }));
    assert.equal(ok.reply?.message, 'fine');
    assert.equal(errors.length, 3);
  });

  test('a launcher without the secret cannot inject a launch (EAUTH), and the handler never runs', async () => {
    await using primary = await requestSingleInstance(base(6));
    let calls = 0;
    primary.on('second-instance', (_l, reply) => {
      calls++;
      reply({ exitCode: 0 });
    });
    await rejectsWith(requestSingleInstance(base(6, { secretDir: privateDir(), argv: ['evil'] })), ErrorCode.EAUTH);
    assert.equal(calls, 0);
  });

  test('a secret deleted while the holder runs is recreated, and the holder follows it', async () => {
    const dir = privateDir();
    await using primary = await requestSingleInstance(base(9, { secretDir: dir }));
    primary.on('second-instance', (_l, reply) => reply({ exitCode: 0, message: 'still reachable' }));
    // A primary reads the secret when the first launcher comes (it needs none to hold the lock).
    assert.equal((await requestSingleInstance(base(9, { secretDir: dir }))).reply?.message, 'still reachable');
    const file = secretPath('com.example.instance-test', dir);
    const before = readFileSync(file);
    rmSync(file);
    const second = await requestSingleInstance(base(9, { secretDir: dir }));
    assert.equal(second.reply?.message, 'still reachable');
    assert.notDeepEqual(readFileSync(file), before, 'the launcher made a new secret, which the holder used');
  });

  test('another appId on the same port: EFOREIGN, since a holder that has not proved itself is not believed', async () => {
    await using _primary = await requestSingleInstance(base(7));
    const error = await rejectsWith(requestSingleInstance(base(7, { appId: 'com.example.other' })), ErrorCode.EFOREIGN);
    assert.match(error.message, /refused before proving it is this user's holder \(it said EAPPID: this port is held by another app/);
  });

  test('the holder refuses more arguments than its limit with ETOOMANYARGS', async () => {
    await using primary = await requestSingleInstance(base(8, { maxArgs: 3 }));
    primary.on('second-instance', (_l, reply) => reply({ exitCode: 0 }));
    await rejectsWith(requestSingleInstance(base(8, { argv: ['1', '2', '3', '4'] })), ErrorCode.ETOOMANYARGS);
    assert.equal((await requestSingleInstance(base(8, { argv: ['1', '2', '3'] }))).reply?.exitCode, 0);
  });
});

describe('what is on the port', () => {
  test('a foreign server that answers garbage gives EFOREIGN and never receives argv', async () => {
    const received: Buffer[] = [];
    const server = createServer((socket) => {
      socket.on('data', (d) => received.push(d));
      socket.write('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    await new Promise<void>((r) => server.listen(port(10), '127.0.0.1', r));
    after(() => server.close());
    await rejectsWith(requestSingleInstance(base(10, { addr: '127.0.0.1', argv: ['SECRET-ARGV-MARKER'] })), ErrorCode.EFOREIGN);
    assert.ok(!Buffer.concat(received).includes('SECRET-ARGV-MARKER'));
  });

  test('a foreign server that never answers gives EHANDSHAKETIMEOUT within the handshake timeout', async () => {
    const sockets: Socket[] = [];
    const server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(port(11), '127.0.0.1', r));
    after(() => {
      sockets.forEach((s) => s.destroy());
      server.close();
    });
    await rejectsWith(requestSingleInstance(base(11, { addr: '127.0.0.1', handshakeTimeout: 300 })), ErrorCode.EHANDSHAKETIMEOUT);
  });

  test('a holder that vanishes between tryLock and connect sends the launch back to the lock: it becomes primary', async () => {
    // A plain lock destroys every connection, like a holder in the middle of releasing.
    const plain = new LockSocket({ port: port(12), addr: '127.0.0.1' });
    await plain.lock();
    setTimeout(() => void plain.unlock(), 60);
    await using instance = await requestSingleInstance(base(12, { addr: '127.0.0.1', retries: 8 }));
    assert.equal(instance.isPrimary, true);
  });

  test('something that keeps closing connections without a word gives EFOREIGN after the retries', async () => {
    await using plain = new LockSocket({ port: port(13), addr: '127.0.0.1' });
    await plain.lock();
    await rejectsWith(requestSingleInstance(base(13, { addr: '127.0.0.1', retries: 2 })), ErrorCode.EFOREIGN);
  });
});

describe('wait for release, status, close', () => {
  test('waitForRelease resolves as primary once the holder closes', async () => {
    const holder = await requestSingleInstance(base(20));
    let settled = false;
    const waiting = requestSingleInstance(base(20, { waitForRelease: true })).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(settled, false, 'the waiter must not resolve while the holder holds the lock');
    await holder.close();
    await using next = await waiting;
    assert.equal(next.isPrimary, true);
  });

  test('instanceStatus reports the holder; verified only with its appId; undefined when free', async () => {
    assert.equal(await instanceStatus({ port: port(21), secretDir }), undefined);
    const before = Date.now();
    await using holder = await requestSingleInstance(base(21));
    const verified = await instanceStatus({ port: port(21), appId: 'com.example.instance-test', secretDir });
    assert.deepEqual(
      { ...verified, startedAt: 0 },
      { addr: holder.addr, port: port(21), pid: process.pid, appId: 'com.example.instance-test', version: LIBRARY_VERSION, startedAt: 0, verified: true },
    );
    assert.ok((verified?.startedAt ?? 0) >= before - 5);
    const anonymous = await instanceStatus({ port: port(21) });
    assert.equal(anonymous?.verified, false);
    assert.equal(anonymous?.appId, 'com.example.instance-test');
    const wrongSecret = await instanceStatus({ port: port(21), appId: 'com.example.instance-test', secretDir: privateDir() });
    assert.equal(wrongSecret?.verified, false);
  });

  test('close is idempotent and frees the port at once; await using releases at scope exit', async () => {
    const first = await requestSingleInstance(base(22));
    await Promise.all([first.close(), first.close()]);
    await first.close();
    {
      await using second = await requestSingleInstance(base(22));
      assert.equal(second.isPrimary, true);
    }
    await using third = await requestSingleInstance(base(22));
    assert.equal(third.isPrimary, true);
  });

  test('close fails queued launches with ECLOSED instead of dropping them', async () => {
    const holder = await requestSingleInstance(base(23));
    const queued = requestSingleInstance(base(23, { argv: ['q'] }));
    while (holder.queued < 1) await new Promise((r) => setTimeout(r, 10));
    await holder.close();
    await rejectsWith(queued, ErrorCode.ECLOSED);
  });

  test('instanceStatus refuses a non-loopback address before connecting anywhere', async () => {
    await rejectsWith(instanceStatus({ port: port(25), addr: '10.0.0.1' }), ErrorCode.ENOTLOOPBACK);
    await rejectsWith(instanceStatus({ port: port(25), addr: 'localhost' }), ErrorCode.EINVALIDADDR);
    await rejectsWith(requestSingleInstance(base(25, { addr: '8.8.8.8' })), ErrorCode.ENOTLOOPBACK);
  });

  test('bad options are EINVALIDOPTION / EINVALIDPORT', async () => {
    await rejectsWith(requestSingleInstance({ port: port(24), appId: '' }), ErrorCode.EINVALIDOPTION);
    await rejectsWith(requestSingleInstance({ ...base(24), argv: [1 as unknown as string] }), ErrorCode.EINVALIDOPTION);
    await rejectsWith(requestSingleInstance({ ...base(24), handshakeTimeout: -1 }), ErrorCode.EINVALIDOPTION);
    await rejectsWith(requestSingleInstance({ ...base(24), port: 70000 }), ErrorCode.EINVALIDPORT);
  });
});
