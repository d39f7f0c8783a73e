/**
 * A tampering relay: it stands between a launcher and a holder, cuts both byte streams into
 * frames, and can flip, drop, duplicate, reorder or inject a frame, or swallow everything from a
 * point on. It cannot open a sealed frame (it has no key); it knows a frame by its direction and
 * its place: the launcher's first sealed frame is its LAUNCH, the holder's first is ACCEPTED (or
 * its ERROR, or a waiter's RELEASED), its second the REPLY. Used in-process by
 * test/main/channel.test.ts, and run as another user by test/fixtures/relay-nobody.ts.
 *
 * Keys are bound to the endpoint each side sees, so a relay between two ports only ever makes
 * the holder's proof fail. To stand in the middle of a working channel, the relay takes the
 * lock's own address:port first (`Squat`), lets one launcher connect, stops listening, and
 * connects to the holder that then takes the port: both sides name the same endpoint.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { FrameDecoder, FrameType, type Frame, type SealedTypeValue } from '../../src/main/frame.js';
import { Sealer } from '../../src/main/seal.js';

/** up: launcher → holder; down: holder → launcher. */
export type Direction = 'up' | 'down';

/** One whole frame passing the relay. */
export interface Passing {
  dir: Direction;
  type: number;
  /** The frame as it arrived: header, then payload. */
  bytes: Buffer;
  /** Its place among the frames of its direction, from 0. */
  index: number;
  /** Its place among the SEALED frames of its direction, from 0; -1 for a frame in clear. */
  sealed: number;
}

/** A frame's place in a conversation, as the relay can tell it. */
export interface Slot {
  dir: Direction;
  type?: number;
  sealed?: number;
}

export const At = {
  HELLO: { dir: 'up', type: FrameType.HELLO },
  CHALLENGE: { dir: 'down', type: FrameType.CHALLENGE },
  FINISHED: { dir: 'up', type: FrameType.FINISHED },
  LAUNCH: { dir: 'up', sealed: 0 },
  /** The holder's first sealed message: ACCEPTED, a sealed ERROR, or a waiter's RELEASED. */
  ANSWER: { dir: 'down', sealed: 0 },
  REPLY: { dir: 'down', sealed: 1 },
} as const satisfies Record<string, Slot>;

export function matches(p: Passing, slot: Slot): boolean {
  return p.dir === slot.dir && (slot.type === undefined || p.type === slot.type) && (slot.sealed === undefined || p.sealed === slot.sealed);
}

/**
 * What to do with a passing frame: the chunks to send on in its place ([] drops it; undefined
 * passes it unchanged). It may also inject into either direction through the session.
 */
export type Tamper = (p: Passing, session: Session) => Buffer[] | undefined;

export interface RelayOptions {
  tamper?: Tamper;
  /** Default true. False: the holder's close is not passed on, so the launcher waits for its own deadline. */
  passHolderClose?: boolean;
}

/** One relayed connection: what went by, and a way to inject. */
export class Session {
  readonly launcher: Socket;
  readonly holder: Socket;
  /** Every frame that arrived, in order, before any tampering. */
  readonly log: Passing[] = [];
  readonly #raw: Record<Direction, Buffer[]> = { up: [], down: [] };
  /** Resolves when both connections have closed. */
  readonly done: Promise<void>;

  constructor(launcher: Socket, holder: Socket, options: RelayOptions = {}) {
    this.launcher = launcher;
    this.holder = holder;
    const { tamper, passHolderClose = true } = options;
    const closed = (socket: Socket): Promise<void> =>
      new Promise((resolve) => (socket.destroyed && socket.closed ? resolve() : socket.once('close', () => resolve())));
    this.done = Promise.all([closed(launcher), closed(holder)]).then(() => undefined);
    this.#pipe('up', launcher, holder, tamper, true);
    this.#pipe('down', holder, launcher, tamper, passHolderClose);
  }

  /** Every byte that arrived from one side (up: from the launcher), as it arrived. */
  received(dir: Direction): Buffer {
    return Buffer.concat(this.#raw[dir]);
  }

  /** The frames of one slot that arrived. */
  frames(slot: Slot): Passing[] {
    return this.log.filter((p) => matches(p, slot));
  }

  /** Sends bytes of the relay's own making towards the holder (up) or the launcher (down). */
  inject(dir: Direction, bytes: Buffer): void {
    const to = dir === 'up' ? this.holder : this.launcher;
    if (!to.destroyed) to.write(bytes);
  }

  close(): void {
    this.launcher.destroy();
    this.holder.destroy();
  }

  #pipe(dir: Direction, from: Socket, to: Socket, tamper: Tamper | undefined, passClose: boolean): void {
    const decoder = new FrameDecoder({ maxFrameBytes: 64 * 1024 * 1024 });
    let index = 0;
    let sealed = 0;
    from.on('error', () => {});
    from.on('data', (chunk: Buffer) => {
      this.#raw[dir].push(chunk);
      decoder.write(chunk);
      let frame: Frame | undefined;
      try {
        frame = decoder.read();
      } catch {
        // Not frames at all: nothing for a relay to tamper with; the tests never get here.
        this.close();
        return;
      }
      for (; frame; frame = decoder.read()) {
        const p: Passing = {
          dir,
          type: frame.type,
          bytes: Buffer.concat([frame.header, frame.payload]),
          index: index++,
          sealed: frame.type === FrameType.SEALED ? sealed++ : -1,
        };
        this.log.push(p);
        const out = tamper?.(p, this) ?? [p.bytes];
        for (const bytes of out) if (!to.destroyed) to.write(bytes);
      }
    });
    from.on('close', () => {
      if (passClose) to.end();
    });
    // A squatted connection was accepted paused (pauseOnConnect): its bytes flow from here on.
    from.resume();
  }
}

// -- tampers --------------------------------------------------------------------------------

/** A copy of a frame with one bit of its payload flipped: at `at` (default: the middle). */
export function flipped(bytes: Buffer, at?: number, mask = 0x01): Buffer {
  const copy = Buffer.from(bytes);
  const payloadBytes = copy.length - 5;
  const offset = 5 + (at ?? payloadBytes >> 1);
  if (offset >= copy.length) throw new Error(`no payload byte ${offset - 5} in a frame of ${payloadBytes}`);
  copy[offset] = (copy[offset] as number) ^ mask;
  return copy;
}

/** Flips one bit of the frame in `slot` (see `flipped`). */
export function flip(slot: Slot, at?: number | ((p: Passing) => number), mask = 0x01): Tamper {
  return (p) => (matches(p, slot) ? [flipped(p.bytes, typeof at === 'function' ? at(p) : at, mask)] : undefined);
}

export function drop(slot: Slot): Tamper {
  return (p) => (matches(p, slot) ? [] : undefined);
}

export function duplicate(slot: Slot): Tamper {
  return (p) => (matches(p, slot) ? [p.bytes, p.bytes] : undefined);
}

/** Holds the frame in `first` back until the one in `second` has gone by, then sends it. */
export function swap(first: Slot, second: Slot): Tamper {
  let held: Buffer | undefined;
  return (p) => {
    if (matches(p, first)) {
      held = p.bytes;
      return [];
    }
    if (matches(p, second) && held) return [p.bytes, held];
    return undefined;
  };
}

/** Drops every frame in direction `dir` that comes after the one in `slot` (the other direction passes). */
export function swallowAfter(slot: Slot, dir: Direction): Tamper {
  let seen = false;
  return (p) => {
    if (matches(p, slot)) {
      seen = true;
      return undefined;
    }
    return seen && p.dir === dir ? [] : undefined;
  };
}

/** Runs tampers in turn; the first that decides for a frame wins. */
export function compose(...tampers: Tamper[]): Tamper {
  return (p, session) => {
    for (const tamper of tampers) {
      const out = tamper(p, session);
      if (out !== undefined) return out;
    }
    return undefined;
  };
}

/** A SEALED frame made with a key of the forger's own: what anybody without the keys can send. */
export function forgedSealed(type: number, body: unknown): Buffer {
  return new Sealer(randomBytes(32)).seal(type as SealedTypeValue, Buffer.from(JSON.stringify(body), 'utf8'));
}

// -- taking positions -----------------------------------------------------------------------

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** A connection to host:port. */
export function dial(port: number, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * Listens on a lock's address:port before its holder comes, until one connection arrives; then
 * stops listening and keeps that connection (unread: its bytes wait in the socket until a
 * Session relays them), so the real holder can take the port.
 */
export class Squat {
  readonly #server: Server;
  readonly #first: Promise<Socket>;

  private constructor(server: Server, first: Promise<Socket>) {
    this.#server = server;
    this.#first = first;
  }

  static async listen(port: number, host = '127.0.0.1'): Promise<Squat> {
    let take!: (socket: Socket) => void;
    const first = new Promise<Socket>((resolve) => (take = resolve));
    const server = createServer({ pauseOnConnect: true }, (socket) => {
      socket.on('error', () => {});
      server.close();
      take(socket);
    });
    await listen(server, port, host);
    return new Squat(server, first);
  }

  /** The first connection, with the listener closed; rejects after `timeoutMs` (a hang guard). */
  accepted(timeoutMs = 60_000): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nobody connected to the squat within ${timeoutMs} ms`)), timeoutMs);
      void this.#first.then((socket) => {
        clearTimeout(timer);
        resolve(socket);
      });
    });
  }

  /** Stops listening (if nobody came); the connection already taken stays. */
  close(): void {
    if (this.#server.listening) this.#server.close();
  }
}

/** A standing relay from host:port to a holder on another port: one Session per connection. */
export class PortRelay {
  readonly sessions: Session[] = [];
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async listen(port: number, host: string, target: { port: number; host: string }, options: (session: number) => RelayOptions = () => ({})): Promise<PortRelay> {
    let relay!: PortRelay;
    let count = 0;
    const server = createServer({ pauseOnConnect: true }, (socket) => {
      socket.on('error', () => {});
      const n = count++;
      dial(target.port, target.host).then(
        (upstream) => void relay.sessions.push(new Session(socket, upstream, options(n))),
        () => socket.destroy(),
      );
    });
    relay = new PortRelay(server);
    await listen(server, port, host);
    return relay;
  }

  close(): void {
    this.#server.close();
    for (const s of this.sessions) s.close();
  }
}
