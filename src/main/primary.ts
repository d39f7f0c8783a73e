/**
 * The holder: every connection a later launch opens on the lock socket comes here. It keeps
 * admission (how many connections, how many of them unproven), the queue of launches waiting
 * for a handler, and the release; each connection's conversation is holder.ts. The holder never
 * kills anybody and never throws out of a connection: a bad client is refused with a code, or
 * dropped, and the holder keeps serving.
 */
import type { Socket } from 'node:net';
import { ErrorCode, LockSocketError } from './errors.js';
import { debug } from './debug.js';
import { Connection, refuse, Stage, type ConnectionSettings, type Host } from './holder.js';
import type { Launch, LaunchReply, ReplyFunction } from './types.js';

export interface HolderOptions extends ConnectionSettings {
  maxConnections: number;
  maxUnauthenticated: number;
  maxQueue: number;
  keepAlive: boolean;
}

/** Hands a launch to the app. May throw or return a rejecting promise: the launcher gets EHANDLER. */
export type Dispatch = (launch: Launch, reply: ReplyFunction) => unknown;

interface Entry {
  connection: Connection;
  launch: Launch;
}

export class Holder implements Host {
  readonly settings: HolderOptions;
  readonly #onHandlerError: ((error: unknown) => void) | undefined;
  #dispatch: Dispatch | undefined;
  readonly #queue: Entry[] = [];
  /** Connections being served: they count toward maxConnections. */
  readonly #served = new Set<Connection>();
  /** Insertion-ordered, so the first entry is the oldest connection still unproven. */
  readonly #unproven = new Set<Connection>();
  readonly #waiters = new Set<Connection>();
  #released = false;

  constructor(options: HolderOptions, onHandlerError?: (error: unknown) => void) {
    this.settings = options;
    this.#onHandlerError = onHandlerError;
  }

  /** Launches waiting for a dispatcher. */
  get queueLength(): number {
    return this.#queue.length;
  }

  /** Sets (or clears) where launches go; queued launches are handed over at once. */
  setDispatch(dispatch: Dispatch | undefined): void {
    this.#dispatch = dispatch;
    while (this.#dispatch && this.#queue.length > 0) this.#run(this.#queue.shift() as Entry);
  }

  /** Every connection the lock socket accepts comes here. */
  readonly handleConnection = (socket: Socket): void => {
    socket.on('error', (error) => debug('connection error: %s', error.message));
    if (this.#released) {
      socket.destroy();
      return;
    }
    if (!this.settings.keepAlive) socket.unref();
    if (this.#served.size >= this.settings.maxConnections) {
      debug('refusing a connection: %d served', this.#served.size);
      refuse(socket, new LockSocketError(ErrorCode.ETOOMANYCONNECTIONS, `the holder already serves ${this.settings.maxConnections} connections`));
      return;
    }
    const connection = new Connection(socket, this);
    this.#served.add(connection);
    this.#unproven.add(connection);
    if (this.#unproven.size > this.settings.maxUnauthenticated) {
      // Idle strangers must not crowd out a real launch: the oldest one goes, at once, and stops
      // counting. The oldest that has not said HELLO goes first: a launcher that has its
      // CHALLENGE may already have sent its launch, and dropping it then costs an EINDOUBT (on a
      // loaded machine 32 idle connects can come in before a launcher's FINISHED, relay.test).
      const oldest = this.#evictable(connection);
      debug('dropping the oldest unproven connection');
      this.#unproven.delete(oldest);
      this.#served.delete(oldest);
      oldest.destroy();
    }
  };

  /** The oldest unproven connection older than `newcomer` that is still silent, else the oldest. */
  #evictable(newcomer: Connection): Connection {
    // Never the newcomer in preference to an older greeted one: 32 peers parked after their
    // HELLO would otherwise shut every later connection out at once.
    for (const c of this.#unproven) if (c !== newcomer && c.stage === Stage.HELLO) return c;
    return this.#unproven.values().next().value as Connection;
  }

  proven(connection: Connection): void {
    this.#unproven.delete(connection);
  }

  finished(connection: Connection): void {
    this.#served.delete(connection);
    this.#unproven.delete(connection);
    this.#waiters.delete(connection);
    const i = this.#queue.findIndex((entry) => entry.connection === connection);
    // A queued launch whose launcher has gone is dropped: that launcher has already exited non-zero.
    if (i >= 0) this.#queue.splice(i, 1);
  }

  wait(connection: Connection): void {
    if (this.#released) connection.released();
    else this.#waiters.add(connection);
  }

  launch(connection: Connection, launch: Launch): void {
    const entry = { connection, launch };
    if (this.#dispatch) {
      connection.accepted(false);
      this.#run(entry);
      return;
    }
    if (this.#queue.length >= this.settings.maxQueue) {
      connection.fail(new LockSocketError(ErrorCode.EQUEUEFULL, `${this.settings.maxQueue} launches already wait for a handler`));
      return;
    }
    this.#queue.push(entry);
    connection.accepted(true);
    debug('launch queued (%d waiting)', this.#queue.length);
  }

  /**
   * Stops serving: waiters hear RELEASED, queued launches get ECLOSED, unproven peers are
   * dropped. The caller then unlocks, which closes whatever is still open.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    for (const waiter of [...this.#waiters]) waiter.released();
    for (const { connection } of this.#queue.splice(0)) {
      connection.fail(new LockSocketError(ErrorCode.ECLOSED, 'the holder released the lock before a handler took this launch'));
    }
    for (const connection of [...this.#unproven]) connection.destroy();
  }

  #run({ connection, launch }: Entry): void {
    const reply: ReplyFunction = (value: LaunchReply) => void connection.reply(value);
    const handlerFailed = (error: unknown): void => {
      debug('handler failed: %s', error);
      this.#onHandlerError?.(error);
      const message = error instanceof Error ? error.message : String(error);
      if (connection.stage === Stage.ANSWERING) connection.fail(new LockSocketError(ErrorCode.EHANDLER, `the holder's handler failed: ${message}`));
    };
    try {
      const result = (this.#dispatch as Dispatch)(launch, reply);
      if (result instanceof Promise) result.catch(handlerFailed);
    } catch (error) {
      handlerFailed(error);
    }
  }
}
