/** The in-process rows: P1 (+ the proper-lockfile peer), P2, P3. */
import { once } from 'node:events';
import { connect, createServer, type Server } from 'node:net';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { tryLockSocket } from '../src/index.js';
import { requestSingleInstance, secretPath } from '../src/main/index.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_MAX_ARG_BYTES, DEFAULT_MAX_FRAME_BYTES, DEFAULT_REPLY_TIMEOUT_MS } from '../src/main/constants.js';
import { ADDR, APP_ID, ARGV, PORTS } from './ports.js';
import { lockIsHeld, rawForward, rawHolder, rawLaunch, readSecret, type RawReply } from './raw.js';
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
 * A plain, unsealed RPC server (one JSON line each way): the retired P3's baseline, kept in the
 * parts note to show what the sealed channel costs over no security at all.
 */
async function rpcServer(port: number): Promise<Server> {
  const server = createServer((socket) => {
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end < 0) return;
      JSON.parse(buffered.slice(0, end));
      socket.write(`${JSON.stringify({ exitCode: 0 })}\n`);
    });
  });
  server.listen({ host: ADDR, port, exclusive: true });
  await once(server, 'listening');
  return server;
}

/** A loopback connect + one JSON request and response, in clear. */
function rpcRequest(port: number, argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: ADDR, port }, () => socket.write(`${JSON.stringify({ argv, cwd: process.cwd() })}\n`));
    socket.setEncoding('utf8');
    let buffered = '';
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end < 0) return;
      socket.destroy();
      if ((JSON.parse(buffered.slice(0, end)) as { exitCode: number }).exitCode === 0) resolve();
      else reject(new Error('rpc reply not 0'));
    });
    socket.on('error', reject);
  });
}

/** P3's diagnosis: its parts and the baseline's, timed interleaved in one loop (see p3Parts). */
export interface P3Parts {
  n: number;
  launch: Summary;
  secret: Summary;
  held: Summary;
  forward: Summary;
  raw: Summary;
  rawSecret: Summary;
  rawHeld: Summary;
  rawForward: Summary;
  rpc: Summary;
}

const rawReply = (): RawReply => ({ exitCode: 0 });

/**
 * P3: one forwarded launch in-process (holder and launcher in this process) against the
 * hand-written exchange doing the same work (bench/raw.ts), its holder in this process too.
 */
export async function forwardRow(secretDir: string, rounds: number, warmup: number, partsWarmup: number): Promise<Pair & { parts: P3Parts | undefined }> {
  const keyFile = secretPath(APP_ID, secretDir);
  const holder = await requestSingleInstance({ port: PORTS.p3Lib, addr: ADDR, appId: APP_ID, secretDir });
  if (!holder.isPrimary) throw new Error('P3: the holder did not become primary');
  holder.on('second-instance', (_launch, reply) => reply({ exitCode: 0 }));
  const raw = await rawHolder(ADDR, PORTS.p3Raw, APP_ID, readSecret(keyFile), rawReply);
  const rpc = await rpcServer(PORTS.p3Rpc);
  try {
    const [lib, base] = await interleave([() => time(() => libLaunch(secretDir)), () => time(() => rawLaunched(keyFile))], rounds, warmup);
    const parts = await p3Parts(secretDir, keyFile, Math.max(20, rounds >> 1), partsWarmup);
    return { value: summarize(lib as bigint[]), baseline: summarize(base as bigint[]), parts };
  } finally {
    await holder.close();
    await close(raw);
    await close(rpc);
  }
}

async function libLaunch(secretDir: string): Promise<void> {
  const launch = await requestSingleInstance({ port: PORTS.p3Lib, addr: ADDR, appId: APP_ID, secretDir, argv: ARGV });
  if (launch.isPrimary || launch.reply?.exitCode !== 0) throw new Error('P3: the launch was not forwarded');
}

async function rawLaunched(keyFile: string): Promise<void> {
  const reply = await rawLaunch(ADDR, PORTS.p3Raw, APP_ID, keyFile, ARGV);
  if (reply.exitCode !== 0) throw new Error('P3: the raw launch was not answered 0');
}

/**
 * Diagnosis for P3: what a forwarded launch is made of, and what the baseline's is, each part
 * timed on its own, all interleaved in one loop so they are comparable — the whole launch;
 * reading the per-user secret (and making its key); the failed listen that detects the holder;
 * the internal `forward()` with the key in hand (connect, two round trips, HKDF, four HMACs,
 * four AES-GCM records); the same three parts of the hand-written exchange; and a plain unsealed
 * RPC (connect, one JSON line each way). lock-socket's internal functions are looked up at run
 * time: undefined if one has been renamed.
 */
async function p3Parts(secretDir: string, keyFile: string, rounds: number, warmup: number): Promise<P3Parts | undefined> {
  const secretModule = (await import('../src/main/secret.js')) as Record<string, unknown>;
  const keysModule = (await import('../src/main/keys.js')) as Record<string, unknown>;
  const launcherModule = (await import('../src/main/launcher.js')) as Record<string, unknown>;
  const read = secretModule['loadOrCreateSecretSync'];
  const makeKey = keysModule['secretKey'];
  const forward = launcherModule['forward'];
  if (typeof read !== 'function' || typeof makeKey !== 'function' || typeof forward !== 'function') return undefined;
  const readKey = (): unknown => makeKey(read(APP_ID, secretDir));
  const request = {
    addr: ADDR,
    port: PORTS.p3Lib,
    appId: APP_ID,
    maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
    maxArgBytes: DEFAULT_MAX_ARG_BYTES,
    handshakeTimeout: DEFAULT_HANDSHAKE_TIMEOUT_MS,
    secret: readKey(),
    argv: ARGV,
    cwd: process.cwd(),
    data: undefined,
    env: {},
    replyTimeout: DEFAULT_REPLY_TIMEOUT_MS,
    // What forwardRequest() gives forward() for a launch without options of its own.
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: undefined,
    onProven: undefined,
    onDelivered: undefined,
  };
  const secret = readSecret(keyFile);
  const launch = { argv: ARGV, cwd: process.cwd(), pid: process.pid };
  const samples = await interleave(
    [
      () => time(() => libLaunch(secretDir)),
      () => time(async () => readKey()),
      () =>
        time(async () => {
          if ((await tryLockSocket(PORTS.p3Lib, ADDR)) !== undefined) throw new Error('P3: took a held lock');
        }),
      () => time(() => forward(request) as Promise<unknown>),
      () => time(() => rawLaunched(keyFile)),
      () => time(async () => readSecret(keyFile)),
      () =>
        time(async () => {
          if (!(await lockIsHeld(ADDR, PORTS.p3Raw))) throw new Error('P3: the raw lock was free');
        }),
      () => time(() => rawForward(ADDR, PORTS.p3Raw, APP_ID, secret, launch)),
      () => time(() => rpcRequest(PORTS.p3Rpc, ARGV)),
    ],
    rounds,
    warmup,
  );
  const [whole, secretRead, held, forwarded, raw, rawSecret, rawHeld, rawForwarded, rpc] = samples.map(summarize) as Summary[] as [
    Summary, Summary, Summary, Summary, Summary, Summary, Summary, Summary, Summary,
  ];
  return { n: rounds, launch: whole, secret: secretRead, held, forward: forwarded, raw, rawSecret, rawHeld, rawForward: rawForwarded, rpc };
}
