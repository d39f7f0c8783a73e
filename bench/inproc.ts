/** The in-process rows: P1 (+ the proper-lockfile peer), P2, P3. */
import { once } from 'node:events';
import { connect, createServer, type Server } from 'node:net';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { tryLockSocket } from '../src/index.js';
import { requestSingleInstance } from '../src/main/index.js';
import { ADDR, APP_ID, PORTS } from './ports.js';
import { interleave, summarize, time, type Summary } from './stats.js';

export interface Pair {
  value: Summary;
  baseline: Summary;
}

/** Raw Node's lock: listen exclusively, then close. */
async function rawListen(port: number): Promise<Server> {
  const server = createServer();
  server.listen({ host: ADDR, port, exclusive: true });
  await once(server, 'listening');
  return server;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function libLockUnlock(port: number): Promise<void> {
  const lock = await tryLockSocket(port, ADDR);
  if (!lock) throw new Error(`P1: the free port ${port} was held`);
  await lock.unlock();
}

/** P1: tryLock + unlock on a free port vs raw listen + close. */
export async function lockRow(rounds: number, warmup: number): Promise<Pair> {
  const [lib, raw] = await interleave(
    [() => time(() => libLockUnlock(PORTS.p1Lib)), () => time(async () => close(await rawListen(PORTS.p1Raw)))],
    rounds,
    warmup,
  );
  return { value: summarize(lib as bigint[]), baseline: summarize(raw as bigint[]) };
}

/**
 * The peer row: proper-lockfile's lock + release (mkdir, mtime heartbeat timer, rmdir) vs P1's
 * tryLock + unlock, in a loop of their own so that the peer's file-system work on the thread pool
 * cannot leak into P1's ratio.
 */
export async function peerRow(dir: string, rounds: number, warmup: number): Promise<Pair> {
  const file = path.join(dir, 'peer.lock');
  const [peer, lib] = await interleave(
    [
      () =>
        time(async () => {
          const release = await lockfile.lock(file, { realpath: false });
          await release();
        }),
      () => time(() => libLockUnlock(PORTS.p1Lib)),
    ],
    rounds,
    warmup,
  );
  return { value: summarize(peer as bigint[]), baseline: summarize(lib as bigint[]) };
}

/** P2: tryLock on a held port resolves undefined, vs a raw listen failing with EADDRINUSE. */
export async function heldRow(rounds: number, warmup: number): Promise<Pair> {
  const holder = await rawListen(PORTS.p2Held);
  try {
    const [lib, raw] = await interleave(
      [
        () =>
          time(async () => {
            if ((await tryLockSocket(PORTS.p2Held, ADDR)) !== undefined) throw new Error('P2: took a held lock');
          }),
        () =>
          time(async () => {
            const server = createServer();
            server.listen({ host: ADDR, port: PORTS.p2Held, exclusive: true });
            const [error] = (await once(server, 'error')) as [NodeJS.ErrnoException];
            if (error.code !== 'EADDRINUSE') throw error;
          }),
      ],
      rounds,
      warmup,
    );
    return { value: summarize(lib as bigint[]), baseline: summarize(raw as bigint[]) };
  } finally {
    await close(holder);
  }
}

/** A raw JSON-lines server: one request, one reply, per connection. */
async function rawJsonServer(port: number): Promise<Server> {
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end < 0) return;
      JSON.parse(buffered.slice(0, end));
      socket.end(`${JSON.stringify({ exitCode: 0 })}\n`);
    });
  });
  server.listen({ host: ADDR, port, exclusive: true });
  await once(server, 'listening');
  return server;
}

/** A raw loopback connect + JSON request/response. */
function rawRequest(port: number, argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: ADDR, port });
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify({ argv, cwd: process.cwd() })}\n`));
    let buffered = '';
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end < 0) return;
      const reply = JSON.parse(buffered.slice(0, end)) as { exitCode: number };
      socket.destroy();
      if (reply.exitCode === 0) resolve();
      else reject(new Error('raw reply not 0'));
    });
    socket.on('error', reject);
  });
}

export const ARGV = ['/usr/bin/app', '--open', '/home/user/notes/todo.md', '--new-window'];

/** P3: one forwarded launch in-process (holder and launcher in this process) vs raw request/response. */
export async function forwardRow(secretDir: string, rounds: number, warmup: number): Promise<Pair & { secret: Summary | undefined }> {
  const holder = await requestSingleInstance({ port: PORTS.p3Lib, addr: ADDR, appId: APP_ID, secretDir });
  if (!holder.isPrimary) throw new Error('P3: the holder did not become primary');
  holder.on('second-instance', (_launch, reply) => reply({ exitCode: 0 }));
  const raw = await rawJsonServer(PORTS.p3Raw);
  try {
    const [lib, base] = await interleave(
      [
        () =>
          time(async () => {
            const launch = await requestSingleInstance({ port: PORTS.p3Lib, addr: ADDR, appId: APP_ID, secretDir, argv: ARGV });
            if (launch.isPrimary || launch.reply?.exitCode !== 0) throw new Error('P3: the launch was not forwarded');
          }),
        () => time(() => rawRequest(PORTS.p3Raw, ARGV)),
      ],
      rounds,
      warmup,
    );
    return { value: summarize(lib as bigint[]), baseline: summarize(base as bigint[]), secret: await secretCost(secretDir, rounds) };
  } finally {
    await holder.close();
    await close(raw);
  }
}

/**
 * Diagnosis for P3: what reading the per-user secret costs on its own, as every launch does it.
 * An internal function, looked up at run time: undefined if it has been renamed.
 */
async function secretCost(secretDir: string, rounds: number): Promise<Summary | undefined> {
  const secret = (await import('../src/main/secret.js')) as Record<string, unknown>;
  const load = secret['loadOrCreateSecret'];
  if (typeof load !== 'function') return undefined;
  const samples: bigint[] = [];
  for (let i = 0; i < Math.max(20, rounds >> 1); i++) samples.push(await time(() => load(APP_ID, secretDir) as Promise<unknown>));
  return summarize(samples);
}
