/** The in-process rows: P1 (+ the proper-lockfile peer), P2, P3. */
import { once } from 'node:events';
import { connect, createServer, type Server } from 'node:net';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { tryLockSocket } from '../src/index.js';
import { requestSingleInstance } from '../src/main/index.js';
import { ADDR, APP_ID, ARGV, PORTS } from './ports.js';
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

/**
 * A raw JSON-lines server: answers each request line, and ends the connection after `exchanges`
 * of them (1 for P3's baseline; 2 for the breakdown's "two round trips", lock-socket's count).
 */
async function rawJsonServer(port: number, exchanges = 1): Promise<Server> {
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    let buffered = '';
    let answered = 0;
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
        JSON.parse(buffered.slice(0, end));
        buffered = buffered.slice(end + 1);
        const line = `${JSON.stringify({ exitCode: 0 })}\n`;
        if (++answered < exchanges) socket.write(line);
        else socket.end(line);
      }
    });
  });
  server.listen({ host: ADDR, port, exclusive: true });
  await once(server, 'listening');
  return server;
}

/** A raw loopback connect + `exchanges` JSON request/response pairs, one after the other. */
function rawRequest(port: number, argv: string[], exchanges = 1): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: ADDR, port });
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    const request = `${JSON.stringify({ argv, cwd: process.cwd() })}\n`;
    socket.on('connect', () => socket.write(request));
    let buffered = '';
    let answered = 0;
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
        const reply = JSON.parse(buffered.slice(0, end)) as { exitCode: number };
        buffered = buffered.slice(end + 1);
        if (reply.exitCode !== 0) {
          socket.destroy();
          reject(new Error('raw reply not 0'));
          return;
        }
        if (++answered < exchanges) {
          socket.write(request);
        } else {
          socket.destroy();
          resolve();
          return;
        }
      }
    });
    socket.on('error', reject);
  });
}

/** P3's diagnosis: its parts, timed interleaved in one loop (see p3Parts). */
export interface P3Parts {
  n: number;
  launch: Summary;
  secret: Summary;
  held: Summary;
  forward: Summary;
  raw: Summary;
  raw2: Summary;
}

/** P3: one forwarded launch in-process (holder and launcher in this process) vs raw request/response. */
export async function forwardRow(secretDir: string, rounds: number, warmup: number): Promise<Pair & { parts: P3Parts | undefined }> {
  const holder = await requestSingleInstance({ port: PORTS.p3Lib, addr: ADDR, appId: APP_ID, secretDir });
  if (!holder.isPrimary) throw new Error('P3: the holder did not become primary');
  holder.on('second-instance', (_launch, reply) => reply({ exitCode: 0 }));
  const raw = await rawJsonServer(PORTS.p3Raw);
  const raw2 = await rawJsonServer(PORTS.p3Raw2, 2);
  try {
    const [lib, base] = await interleave([() => time(() => libLaunch(secretDir)), () => time(() => rawRequest(PORTS.p3Raw, ARGV))], rounds, warmup);
    const parts = await p3Parts(secretDir, Math.max(20, rounds >> 1), warmup);
    return { value: summarize(lib as bigint[]), baseline: summarize(base as bigint[]), parts };
  } finally {
    await holder.close();
    await close(raw);
    await close(raw2);
  }
}

async function libLaunch(secretDir: string): Promise<void> {
  const launch = await requestSingleInstance({ port: PORTS.p3Lib, addr: ADDR, appId: APP_ID, secretDir, argv: ARGV });
  if (launch.isPrimary || launch.reply?.exitCode !== 0) throw new Error('P3: the launch was not forwarded');
}

/**
 * Diagnosis for P3: what a forwarded launch is made of, each part timed on its own, all of them
 * interleaved in one loop so they are comparable — the whole launch; reading the per-user secret;
 * the failed listen that detects the holder; the internal `forward()` with the secret in hand
 * (connect, HELLO → CHALLENGE, LAUNCH → ACCEPTED + REPLY, four HMACs); and raw Node doing one and
 * two JSON round trips on one connection (lock-socket's protocol needs two). Internal functions
 * are looked up at run time: undefined if one has been renamed.
 */
async function p3Parts(secretDir: string, rounds: number, warmup: number): Promise<P3Parts | undefined> {
  const secretModule = (await import('../src/main/secret.js')) as Record<string, unknown>;
  const launcherModule = (await import('../src/main/launcher.js')) as Record<string, unknown>;
  const load = secretModule['loadOrCreateSecret'];
  const forward = launcherModule['forward'];
  if (typeof load !== 'function' || typeof forward !== 'function') return undefined;
  const secret = (await load(APP_ID, secretDir)) as Buffer;
  const request = {
    addr: ADDR,
    port: PORTS.p3Lib,
    appId: APP_ID,
    maxFrameBytes: 1024 * 1024,
    handshakeTimeout: 3000,
    secret,
    argv: ARGV,
    cwd: process.cwd(),
    data: undefined,
    env: {},
    replyTimeout: 60_000,
    onDelivered: undefined,
  };
  const samples = await interleave(
    [
      () => time(() => libLaunch(secretDir)),
      () => time(() => load(APP_ID, secretDir) as Promise<unknown>),
      () =>
        time(async () => {
          if ((await tryLockSocket(PORTS.p3Lib, ADDR)) !== undefined) throw new Error('P3: took a held lock');
        }),
      () => time(() => forward(request) as Promise<unknown>),
      () => time(() => rawRequest(PORTS.p3Raw, ARGV)),
      () => time(() => rawRequest(PORTS.p3Raw2, ARGV, 2)),
    ],
    rounds,
    warmup,
  );
  const [launch, secretRead, held, forwarded, raw, raw2] = samples.map(summarize) as [Summary, Summary, Summary, Summary, Summary, Summary];
  return { n: rounds, launch, secret: secretRead, held, forward: forwarded, raw, raw2 };
}
