/**
 * Every option of requestSingleInstance and instanceStatus, given a wrong type or value, is
 * refused with a code before any I/O: no connection (a counting server holds the lock's port and
 * must see none), no lock taken (a free port stays free), no secret made. Issue 12 found options
 * that were taken and failed late: `waitForRelease: 'no'` waited for ever, `onDelivered: 'x'`
 * threw a TypeError after the launch was delivered, `cwd: 5` came back from the holder as
 * EBADMESSAGE, `secretDir: 42` gave ESECRET, `maxQueue: 1.5` was accepted.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server, type Socket } from 'node:net';
import { portsFor } from '../helpers/ports.js';
import { privateDir } from '../helpers/dirs.js';
import { instanceStatus, requestSingleInstance } from '../../src/main/index.js';
import { LockSocketError } from '../../src/lock/errors.js';

const { port } = portsFor(import.meta.url);
const scratch = privateDir('lock-socket-options-');
const HELD = port(0);
const FREE = port(1);
const APP = 'com.example.options';

/** A silent server on the lock's port that counts the connections it is offered. */
let counter: { server: Server; connections: number; sockets: Set<Socket> };
before(async () => {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    counter.connections++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  counter = { server, connections: 0, sockets };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: HELD, host: '127.0.0.1', exclusive: true }, () => resolve());
  });
});
after(async () => {
  for (const s of counter.sockets) s.destroy();
  await new Promise((resolve) => counter.server.close(resolve));
});

function portFree(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port: p, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

async function rejectsWith(call: () => Promise<unknown>, code: string, what: string): Promise<void> {
  await assert.rejects(call, (error: unknown) => {
    assert.ok(error instanceof LockSocketError, `${what}: not a LockSocketError: ${String(error)}`);
    assert.equal(error.code, code, `${what}: ${error.message}`);
    return true;
  });
}

let dirs = 0;
/** A secret directory that does not exist yet: it must still not exist after a refused call. */
function freshSecretDir(): string {
  return join(scratch, `secrets-${dirs++}`);
}

/**
 * Calls `call` against the held port and against a free one; asserts the code, and that nothing
 * reached the port, nothing took the free one, and no secret was made.
 */
async function refusedBeforeIo(what: string, code: string, call: (port: number, secretDir: string) => Promise<unknown>): Promise<void> {
  const before = counter.connections;
  const dir = freshSecretDir();
  await rejectsWith(() => call(HELD, dir), code, what);
  await rejectsWith(() => call(FREE, dir), code, what);
  assert.equal(counter.connections - before, 0, `${what}: a connection reached the lock's port`);
  assert.equal(await portFree(FREE), true, `${what}: something took the lock's port`);
  assert.equal(existsSync(dir), false, `${what}: a secret directory was made`);
}

function cyclic(): unknown {
  const o: Record<string, unknown> = {};
  o['self'] = o;
  return o;
}

// [option, wrong value, code]: each one on its own, the other options valid.
const LAUNCH_CASES: [string, unknown, string][] = [
  ['port', '27182', 'EINVALIDPORT'],
  ['port', 0, 'EINVALIDPORT'],
  ['port', 65536, 'EINVALIDPORT'],
  ['port', 1.5, 'EINVALIDPORT'],
  ['addr', 'localhost', 'EINVALIDADDR'],
  ['addr', 5, 'EINVALIDADDR'],
  ['addr', '10.0.0.1', 'ENOTLOOPBACK'],
  ['addr', '0.0.0.0', 'ENOTLOOPBACK'],
  ['appId', '', 'EINVALIDOPTION'],
  ['appId', 5, 'EINVALIDOPTION'],
  ['appId', 'x'.repeat(257), 'EINVALIDOPTION'],
  ['argv', 'app --flag', 'EINVALIDOPTION'],
  ['argv', ['app', 5], 'EINVALIDOPTION'],
  ['cwd', 5, 'EINVALIDOPTION'],
  ['cwd', '', 'EINVALIDOPTION'],
  ['data', cyclic(), 'EINVALIDOPTION'],
  ['data', { big: 10n }, 'EINVALIDOPTION'],
  ['data', () => 1, 'EINVALIDOPTION'],
  ['data', Symbol('s'), 'EINVALIDOPTION'],
  ['env', 'PATH', 'EINVALIDOPTION'],
  ['env', ['A=B'], 'EINVALIDOPTION'],
  ['env', [''], 'EINVALIDOPTION'],
  ['env', [5], 'EINVALIDOPTION'],
  ['secretDir', 42, 'EINVALIDOPTION'],
  ['secretDir', '', 'EINVALIDOPTION'],
  ['handshakeTimeout', 0, 'EINVALIDOPTION'],
  ['handshakeTimeout', -1, 'EINVALIDOPTION'],
  ['handshakeTimeout', '3000', 'EINVALIDOPTION'],
  ['handshakeTimeout', Number.NaN, 'EINVALIDOPTION'],
  ['handshakeTimeout', Infinity, 'EINVALIDOPTION'],
  // Past Node's longest timer (2^31 - 1 ms) a timer fires after 1 ms: every handshake would fail.
  ['handshakeTimeout', 2 ** 31, 'EINVALIDOPTION'],
  ['replyTimeout', 0, 'EINVALIDOPTION'],
  ['replyTimeout', -5, 'EINVALIDOPTION'],
  ['replyTimeout', '60000', 'EINVALIDOPTION'],
  ['replyTimeout', 2 ** 31, 'EINVALIDOPTION'],
  ['waitForRelease', 'no', 'EINVALIDOPTION'],
  ['waitForRelease', 1, 'EINVALIDOPTION'],
  ['onDelivered', 'x', 'EINVALIDOPTION'],
  ['onDelivered', {}, 'EINVALIDOPTION'],
  ['keepAlive', 'yes', 'EINVALIDOPTION'],
  ['maxQueue', 1.5, 'EINVALIDOPTION'],
  ['maxQueue', 0, 'EINVALIDOPTION'],
  ['maxQueue', -1, 'EINVALIDOPTION'],
  ['maxFrameBytes', 1023, 'EINVALIDOPTION'],
  ['maxFrameBytes', 4096.5, 'EINVALIDOPTION'],
  // A frame's length is a u32: a larger maximum cannot be honoured (the holder refused it late).
  ['maxFrameBytes', 2 ** 33, 'EINVALIDOPTION'],
  ['maxArgs', 0, 'EINVALIDOPTION'],
  ['maxArgs', 2.5, 'EINVALIDOPTION'],
  ['maxArgBytes', 0, 'EINVALIDOPTION'],
  ['maxArgBytes', '1024', 'EINVALIDOPTION'],
  ['maxConnections', 0, 'EINVALIDOPTION'],
  ['maxConnections', 2.5, 'EINVALIDOPTION'],
  ['retries', -1, 'EINVALIDOPTION'],
  ['retries', 1.5, 'EINVALIDOPTION'],
  ['retries', '3', 'EINVALIDOPTION'],
  ['retries', Infinity, 'EINVALIDOPTION'],
];

const STATUS_CASES: [string, unknown, string][] = [
  ['port', '27182', 'EINVALIDPORT'],
  ['port', -1, 'EINVALIDPORT'],
  ['addr', 'localhost', 'EINVALIDADDR'],
  ['addr', '192.168.0.1', 'ENOTLOOPBACK'],
  ['appId', '', 'EINVALIDOPTION'],
  ['appId', 5, 'EINVALIDOPTION'],
  ['secretDir', 42, 'EINVALIDOPTION'],
  ['handshakeTimeout', 0, 'EINVALIDOPTION'],
  ['handshakeTimeout', 'soon', 'EINVALIDOPTION'],
  ['handshakeTimeout', 2 ** 31, 'EINVALIDOPTION'],
];

function shown(value: unknown): string {
  if (typeof value === 'bigint' || typeof value === 'symbol' || typeof value === 'function') return String(value);
  if (typeof value === 'object' && value !== null && (value as Record<string, unknown>)['self'] === value) return 'a cycle';
  if (typeof value === 'object' && value !== null && 'big' in value) return '{ big: 10n }';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 20)}…(${text.length} chars)` : text;
}

describe('requestSingleInstance: a wrong option is refused before any I/O', () => {
  const valid = (p: number, secretDir: string) => ({ port: p, addr: '127.0.0.1', appId: APP, secretDir, argv: ['app'], handshakeTimeout: 300 });

  for (const [option, value, code] of LAUNCH_CASES) {
    test(`${option}: ${shown(value)} → ${code}`, async () => {
      await refusedBeforeIo(`${option}: ${shown(value)}`, code, (p, dir) => requestSingleInstance({ ...valid(p, dir), [option]: value } as never));
    });
  }

  test('options that are not an object → EINVALIDOPTION', async () => {
    for (const options of [null, undefined, 'port=27182', 27182]) {
      await rejectsWith(() => requestSingleInstance(options as never), 'EINVALIDOPTION', String(options));
    }
  });

  test('control: the same call with valid options does reach the port (the counter counts)', async () => {
    const before = counter.connections;
    const dir = freshSecretDir();
    // The counting server never answers: the launcher times out before sending anything.
    await rejectsWith(() => requestSingleInstance(valid(HELD, dir)), 'EHANDSHAKETIMEOUT', 'valid options');
    assert.ok(counter.connections > before, 'the valid call connected');
  });

  test('the boundaries are accepted: maxFrameBytes 1024 and 2^32 - 1, timeouts of 2^31 - 1 ms, replyTimeout Infinity', async () => {
    const before = counter.connections;
    for (const extra of [{ maxFrameBytes: 1024 }, { maxFrameBytes: 2 ** 32 - 1 }, { replyTimeout: 2 ** 31 - 1 }, { replyTimeout: Infinity }, { retries: 0 }]) {
      await rejectsWith(() => requestSingleInstance({ ...valid(HELD, freshSecretDir()), retries: 0, ...extra }), 'EHANDSHAKETIMEOUT', JSON.stringify(extra));
    }
    assert.equal(counter.connections - before, 5);
  });
});

describe('instanceStatus: a wrong option is refused before any I/O', () => {
  const valid = (p: number, secretDir: string) => ({ port: p, addr: '127.0.0.1', appId: APP, secretDir, handshakeTimeout: 300 });

  for (const [option, value, code] of STATUS_CASES) {
    test(`${option}: ${shown(value)} → ${code}`, async () => {
      await refusedBeforeIo(`${option}: ${shown(value)}`, code, (p, dir) => instanceStatus({ ...valid(p, dir), [option]: value } as never));
    });
  }

  test('options that are not an object → EINVALIDOPTION', async () => {
    for (const options of [null, undefined, 27182]) {
      await rejectsWith(() => instanceStatus(options as never), 'EINVALIDOPTION', String(options));
    }
  });

  test('control: the same query with valid options does reach the port', async () => {
    const before = counter.connections;
    await rejectsWith(() => instanceStatus(valid(HELD, freshSecretDir())), 'EHANDSHAKETIMEOUT', 'valid options');
    assert.ok(counter.connections > before);
  });
});
