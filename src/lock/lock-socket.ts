/**
 * The lock: a TCP server listening on a loopback address and port. Whoever listens holds it;
 * the kernel frees it the moment the holder closes it or dies, so it can never go stale.
 */
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { defaultAddress, formatEndpoint, validateAddress, validatePort } from './address.js';
import { ErrorCode, LockSocketError } from './errors.js';

export interface LockSocketOptions {
  /** The port, 1..65535. Prefer one below 32768 (see the README's "Guarantees and limits"). */
  port: number;
  /** A numeric loopback address. Default: {@link defaultAddress}(), per user where the OS allows. */
  addr?: string;
  /**
   * Default false: the server is unref()ed, so a held lock never keeps the process alive on its
   * own. True keeps the process running for as long as the lock is held.
   */
  keepAlive?: boolean;
  /**
   * Receives every connection accepted on the lock's port (src/main uses the lock as its
   * channel). Without it, connections are destroyed at once: a plain lock is not a channel.
   */
  onConnection?: (socket: Socket) => void;
}

type Operation = 'lock' | 'unlock';

export class LockSocket implements AsyncDisposable {
  readonly #addr: string;
  readonly #port: number;
  readonly #keepAlive: boolean;
  readonly #onConnection: ((socket: Socket) => void) | undefined;
  #server: Server | undefined;
  readonly #connections = new Set<Socket>();
  // lock() and unlock() run one after another in call order; the last queued operation is
  // remembered so that concurrent calls of the same kind share one attempt.
  #queue: Promise<unknown> = Promise.resolve();
  /** For a lock: resolves to the EADDRINUSE error when held (so tryLock builds no error), else undefined. */
  #last: { kind: Operation; promise: Promise<NodeJS.ErrnoException | undefined> } | undefined;

  /** @throws LockSocketError `EINVALIDPORT`, `EINVALIDADDR`, `ENOTLOOPBACK`, `EUIDRANGE`, `EINVALIDOPTION` */
  constructor(options: LockSocketOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new LockSocketError(ErrorCode.EINVALIDOPTION, 'options must be an object such as { port: 5197 }');
    }
    this.#port = validatePort(options.port);
    this.#addr = validateAddress(options.addr ?? defaultAddress());
    if (options.keepAlive !== undefined && typeof options.keepAlive !== 'boolean') {
      throw new LockSocketError(ErrorCode.EINVALIDOPTION, 'keepAlive must be a boolean');
    }
    if (options.onConnection !== undefined && typeof options.onConnection !== 'function') {
      throw new LockSocketError(ErrorCode.EINVALIDOPTION, 'onConnection must be a function');
    }
    this.#keepAlive = options.keepAlive ?? false;
    this.#onConnection = options.onConnection;
  }

  get addr(): string {
    return this.#addr;
  }

  get port(): number {
    return this.#port;
  }

  get isLocked(): boolean {
    return this.#server !== undefined;
  }

  /** The listening server while locked (Perl Lock::Socket's `fh`), else undefined. */
  get server(): Server | undefined {
    return this.#server;
  }

  /**
   * Takes the lock. A no-op when this object already holds it.
   *
   * @throws LockSocketError `ELOCKED` when anyone else listens on the address and port (another
   *   process, another object in this process, or a wildcard listener); `EPORTDENIED`,
   *   `ENOSUCHADDR`, `ELISTEN` (with `cause`) otherwise. The object stays unlocked and may retry.
   */
  async lock(): Promise<void> {
    const held = await this.#attempt();
    if (held !== undefined) throw this.#listenError(held);
  }

  /** Takes the lock if it is free: false when it is held (`ELOCKED`); other errors still reject. */
  async tryLock(): Promise<boolean> {
    // No LockSocketError is built for a held lock here: a held lock is tryLock's answer, not a
    // failure, and every later launch asks it (bench P2).
    return (await this.#attempt()) === undefined;
  }

  #attempt(): Promise<NodeJS.ErrnoException | undefined> {
    if (this.#last?.kind === 'lock') return this.#last.promise;
    if (this.#last === undefined && this.#server !== undefined) return Promise.resolve(undefined);
    return this.#enqueue('lock', () => this.#listen());
  }

  /**
   * Releases the lock: stops listening, destroys the connections it accepted that are still
   * open, and resolves once the server has closed, so the port is free for others at once.
   * Idempotent.
   */
  async unlock(): Promise<void> {
    if (this.#last?.kind === 'unlock') return void (await this.#last.promise);
    if (this.#last === undefined && this.#server === undefined) return;
    await this.#enqueue('unlock', async () => {
      await this.#close();
      return undefined;
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.unlock();
  }

  #enqueue(kind: Operation, run: () => Promise<NodeJS.ErrnoException | undefined>): Promise<NodeJS.ErrnoException | undefined> {
    const promise = this.#queue.then(run);
    const entry = { kind, promise };
    this.#last = entry;
    this.#queue = promise.then(
      () => this.#settled(entry),
      () => this.#settled(entry),
    );
    return promise;
  }

  #settled(entry: { kind: Operation; promise: Promise<unknown> }): void {
    if (this.#last === entry) this.#last = undefined;
  }

  /** Listens; resolves to the EADDRINUSE error when the lock is held, rejects on other errors. */
  async #listen(): Promise<NodeJS.ErrnoException | undefined> {
    if (this.#server !== undefined) return undefined;
    const server = createServer((socket) => this.#accept(socket));
    const held = await new Promise<NodeJS.ErrnoException | undefined>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        server.off('listening', onListening);
        if (error.code === 'EADDRINUSE') resolve(error);
        else reject(this.#listenError(error));
      };
      const onListening = (): void => {
        server.off('error', onError);
        resolve(undefined);
      };
      server.once('error', onError);
      server.once('listening', onListening);
      // Only a listening socket excludes others (libuv sets SO_REUSEADDR, so two merely bound
      // sockets could share the port). Exclusive: node:cluster never shares it among workers.
      server.listen({ host: this.#addr, port: this.#port, exclusive: true });
    });
    if (held) return held;
    // Once listening, the only errors left are failed accepts (e.g. EMFILE): the lock is still
    // held, and an unhandled 'error' would crash the holder, so they are dropped.
    server.on('error', () => {});
    if (!this.#keepAlive) server.unref();
    this.#server = server;
    return undefined;
  }

  #accept(socket: Socket): void {
    if (this.#onConnection === undefined || this.#server === undefined) {
      socket.destroy();
      return;
    }
    this.#connections.add(socket);
    socket.once('close', () => this.#connections.delete(socket));
    this.#onConnection(socket);
  }

  async #close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.#connections) socket.destroy();
    this.#connections.clear();
    await closed;
  }

  #listenError(error: NodeJS.ErrnoException): LockSocketError {
    const where = formatEndpoint(this.#addr, this.#port);
    switch (error.code) {
      case 'EADDRINUSE':
        return new LockSocketError(ErrorCode.ELOCKED, `${where} is locked: something else listens there`, { cause: error });
      case 'EACCES':
        return new LockSocketError(ErrorCode.EPORTDENIED, `${where}: permission denied (a privileged port?)`, { cause: error });
      case 'EADDRNOTAVAIL':
        return new LockSocketError(ErrorCode.ENOSUCHADDR, `${where}: this host has no such address`, { cause: error });
      default:
        return new LockSocketError(ErrorCode.ELISTEN, `${where}: cannot listen (${error.code ?? error.message})`, { cause: error });
    }
  }
}

/**
 * Takes the lock on `port` at `addr` (default per user) and returns its holder.
 *
 * @throws LockSocketError `ELOCKED` when it is held, or any error of {@link LockSocket.lock}.
 * @example
 * ```ts
 * await using lock = await lockSocket(5197);
 * lock.addr; //=> '127.3.232.1' (uid 1000; '127.0.0.1' for root and on macOS)
 * await lockSocket(5197); // rejects: LockSocketError { code: 'ELOCKED' }
 * ```
 */
export async function lockSocket(port: number, addr?: string): Promise<LockSocket> {
  const lock = new LockSocket(addr === undefined ? { port } : { port, addr });
  await lock.lock();
  return lock;
}

/**
 * Like {@link lockSocket}, but resolves to undefined when the lock is held.
 *
 * @example
 * ```ts
 * const lock = await tryLockSocket(5197);
 * if (!lock) process.exit(75); // another copy holds it
 * ```
 */
export async function tryLockSocket(port: number, addr?: string): Promise<LockSocket | undefined> {
  const lock = new LockSocket(addr === undefined ? { port } : { port, addr });
  return (await lock.tryLock()) ? lock : undefined;
}
