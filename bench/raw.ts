/**
 * The hand-written baseline of P3, P4 and P5: protocol 2's work written the way a competent
 * developer would write it by hand, with node:* alone and no lock-socket code. One file serves
 * both ends: the in-process P3 imports it, and the process rows run it as
 * fixtures/raw-launcher.ts (the launcher) and inside fixtures/holder.ts (the holder).
 *
 * What it does, as protocol 2 does, with the same primitives and sizes:
 * - the launcher first finds the lock held: an exclusive `listen()` that fails with EADDRINUSE;
 * - it reads the secret with the same checks: open with O_NOFOLLOW | O_NONBLOCK, fstat (a
 *   regular file, this user's, mode 0600 or stricter, 32 bytes), read (one byte more than
 *   expected, to notice a file that grew), close;
 * - two round trips: HELLO (32-byte nonce, appId) → CHALLENGE (32-byte nonce, pid, the holder's
 *   proof); then FINISHED (the launcher's proof) and the sealed LAUNCH in one write → the sealed
 *   ACCEPTED and REPLY in one write; the launcher closes first;
 * - the keys: SHA-256 over a label, the endpoint, HELLO and CHALLENGE (the transcript), then one
 *   HKDF-SHA256 over the secret with the transcript hash as salt, 128 bytes: two HMAC-SHA256
 *   Finished keys and two AES-256 keys; the proofs are HMAC(holder key, transcript) and
 *   HMAC(launcher key, transcript ‖ holder proof), compared with timingSafeEqual;
 * - sealing: AES-256-GCM, a 12-byte nonce that counts the records of each direction, a 16-byte
 *   tag, the frame header as additional data.
 *
 * What it does not do (each is work lock-socket does and this baseline charges to it): check
 * any message beyond JSON.parse (types, sizes, argument counts), cap a frame's size before the
 * peer has proved itself, time out, retry, tell versions apart, send a reason when it refuses (it
 * closes the socket), queue launches, wait for a release or answer a status query; check the
 * secret's directory or create a missing secret; follow a replaced secret (the holder reads it
 * once at start); keep the clear HELLO small or evict idle peers.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';

const HELLO = 1;
const CHALLENGE = 2;
const FINISHED = 3;
const LAUNCH = 4;
const ACCEPTED = 5;
const REPLY = 6;

const LABEL = 'raw-bench/2';
const SECRET_BYTES = 32;
const NONCE_BYTES = 32;
const PROOF_BYTES = 32;
const TAG_BYTES = 16;

export interface RawLaunch {
  argv: string[];
  cwd: string;
  pid: number;
  /** What the app sends beside the command line (the CLI row sends example-app's). */
  data?: unknown;
}

export interface RawReply {
  exitCode: number;
  message?: string;
}

interface Keys {
  holderProof: Buffer;
  launcherProof: Buffer;
  holderKey: Buffer;
  launcherKey: Buffer;
}

/** A frame: u32 payload length, u8 type, payload. */
function frame(type: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(payload.length, 0);
  header[4] = type;
  return Buffer.concat([header, payload]);
}

/** Calls `handle` with each whole frame that arrives on `socket`. */
function onFrames(socket: Socket, handle: (type: number, header: Buffer, payload: Buffer) => void): void {
  let buffered: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (buffered.length >= 5 && buffered.length >= 5 + buffered.readUInt32BE(0)) {
      const end = 5 + buffered.readUInt32BE(0);
      handle(buffered[4] as number, buffered.subarray(0, 5), buffered.subarray(5, end));
      buffered = buffered.subarray(end);
    }
  });
}

function transcript(endpoint: string, hello: Buffer, challengeBody: Buffer): Buffer {
  // The endpoint ends at the newline and HELLO carries its length in its header, so no two
  // transcripts hash alike.
  return createHash('sha256').update(`${LABEL} ${endpoint}\n`).update(hello).update(challengeBody).digest();
}

function deriveKeys(secret: Buffer, th: Buffer): Keys {
  const okm = Buffer.from(hkdfSync('sha256', secret, th, `${LABEL} keys`, 128));
  const holderProof = createHmac('sha256', okm.subarray(0, 32)).update(th).digest();
  const launcherProof = createHmac('sha256', okm.subarray(32, 64)).update(th).update(holderProof).digest();
  return { holderProof, launcherProof, holderKey: okm.subarray(64, 96), launcherKey: okm.subarray(96) };
}

function nonceOf(sequence: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(sequence, 8);
  return iv;
}

/** The whole frame of record `sequence` of a direction, sealed. */
function seal(key: Buffer, sequence: number, type: number, plain: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(plain.length + TAG_BYTES, 0);
  header[4] = type;
  const cipher = createCipheriv('aes-256-gcm', key, nonceOf(sequence));
  cipher.setAAD(header);
  return Buffer.concat([header, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

/** The plaintext of record `sequence`; throws if it was not sealed with `key` for that place. */
function open(key: Buffer, sequence: number, header: Buffer, payload: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, nonceOf(sequence));
  decipher.setAAD(header);
  decipher.setAuthTag(payload.subarray(payload.length - TAG_BYTES));
  return Buffer.concat([decipher.update(payload.subarray(0, payload.length - TAG_BYTES)), decipher.final()]);
}

function sameProof(expected: Buffer, given: Buffer): boolean {
  return given.length === expected.length && timingSafeEqual(expected, given);
}

/** True when someone holds `host:port` (our exclusive listen fails with EADDRINUSE). */
export function lockIsHeld(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(true) : reject(error)));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(false)));
  });
}

/** The secret, read only if the file is a regular file of this user's that nobody else can read. */
export function readSecret(file: string): Buffer {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== process.getuid?.() || (st.mode & 0o077) !== 0 || st.size !== SECRET_BYTES) {
      throw new Error(`${file} is not a private ${SECRET_BYTES}-byte file of this user`);
    }
    const secret = Buffer.alloc(SECRET_BYTES + 1);
    if (readSync(fd, secret, 0, secret.length, 0) !== SECRET_BYTES) throw new Error(`${file} changed while being read`);
    return secret.subarray(0, SECRET_BYTES);
  } finally {
    closeSync(fd);
  }
}

/**
 * `host:port` as both sides put it into the transcript, IPv6 in brackets: the format lock-socket's
 * holder uses, written here again because this file uses no lock-socket code.
 */
export function endpointOf(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Sends one launch to the holder of `host:port` and resolves with its reply. */
export function rawForward(host: string, port: number, appId: string, secret: Buffer, launch: RawLaunch): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const endpoint = endpointOf(host, port);
    const hello = frame(HELLO, Buffer.concat([randomBytes(NONCE_BYTES), Buffer.from(appId)]));
    let keys: Keys | undefined;
    let received = 0;
    const socket = connect({ host, port }, () => socket.write(hello));
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('the holder closed the connection before its reply')));
    onFrames(socket, (type, header, payload) => {
      try {
        if (keys === undefined) {
          if (type !== CHALLENGE) throw new Error('expected a CHALLENGE');
          const body = payload.subarray(0, payload.length - PROOF_BYTES);
          keys = deriveKeys(secret, transcript(endpoint, hello, body));
          if (!sameProof(keys.holderProof, payload.subarray(body.length))) throw new Error('the holder did not prove it knows the secret');
          socket.write(Buffer.concat([frame(FINISHED, keys.launcherProof), seal(keys.launcherKey, 0, LAUNCH, Buffer.from(JSON.stringify(launch)))]));
          return;
        }
        const message = JSON.parse(open(keys.holderKey, received++, header, payload).toString()) as RawReply;
        if (type === REPLY) {
          socket.destroy();
          resolve(message);
        }
      } catch (error) {
        socket.destroy();
        reject(error);
      }
    });
  });
}

/** A whole second launch: find the lock held, read the secret, forward. */
export async function rawLaunch(host: string, port: number, appId: string, secretFile: string, argv: string[]): Promise<RawReply> {
  if (!(await lockIsHeld(host, port))) throw new Error(`nobody holds ${endpointOf(host, port)}`);
  return rawForward(host, port, appId, readSecret(secretFile), { argv, cwd: process.cwd(), pid: process.pid });
}

/** One connection at the holder: prove, check the launcher's proof, open the launch, reply. */
function serve(socket: Socket, endpoint: string, appId: string, secret: Buffer, onLaunch: (launch: RawLaunch) => RawReply): void {
  let keys: Keys | undefined;
  let proven = false;
  socket.on('error', () => {});
  onFrames(socket, (type, header, payload) => {
    try {
      if (keys === undefined) {
        if (type !== HELLO || payload.subarray(NONCE_BYTES).toString() !== appId) throw new Error('not a HELLO for this app');
        const body = Buffer.alloc(NONCE_BYTES + 4);
        randomBytes(NONCE_BYTES).copy(body);
        body.writeUInt32BE(process.pid, NONCE_BYTES);
        keys = deriveKeys(secret, transcript(endpoint, Buffer.concat([header, payload]), body));
        socket.write(frame(CHALLENGE, Buffer.concat([body, keys.holderProof])));
      } else if (!proven) {
        if (type !== FINISHED || !sameProof(keys.launcherProof, payload)) throw new Error('the launcher did not prove it knows the secret');
        proven = true;
      } else {
        if (type !== LAUNCH) throw new Error('expected a LAUNCH');
        const reply = onLaunch(JSON.parse(open(keys.launcherKey, 0, header, payload).toString()) as RawLaunch);
        const accepted = seal(keys.holderKey, 0, ACCEPTED, Buffer.from(JSON.stringify({ queued: false })));
        socket.write(Buffer.concat([accepted, seal(keys.holderKey, 1, REPLY, Buffer.from(JSON.stringify(reply)))]));
      }
    } catch {
      socket.destroy();
    }
  });
}

/** The holder's side: listens on `host:port` and answers every launch with `onLaunch`'s reply. */
export async function rawHolder(host: string, port: number, appId: string, secret: Buffer, onLaunch: (launch: RawLaunch) => RawReply): Promise<Server> {
  const endpoint = endpointOf(host, port);
  const server = createServer((socket) => serve(socket, endpoint, appId, secret, onLaunch));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, resolve);
  });
  return server;
}
