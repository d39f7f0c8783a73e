// keys.ts: fresh nonces, and a key schedule that binds everything it should.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { deriveKeys, nonce, proofMatches, secretKey, transcriptHash, type Keys } from '../../src/main/keys.js';
import { NONCE_BYTES } from '../../src/main/constants.js';
import { challengeBody, encodeHello, Op } from '../../src/main/messages.js';

// The sealing keys are KeyObjects: their bytes come out through export().
const hex = (k: Keys) => [k.holderProof, k.launcherProof, k.holderKey.export(), k.launcherKey.export()].map((b) => b.toString('hex'));

test('nonces are 32 bytes and never repeat', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const n = nonce();
    assert.equal(n.length, NONCE_BYTES);
    seen.add(n.toString('hex'));
  }
  assert.equal(seen.size, 1000);
});

test('the keys bind the secret, the endpoint, and every byte of HELLO and CHALLENGE', () => {
  const secret = secretKey(randomBytes(32));
  const hello = encodeHello({ op: Op.LAUNCH, appId: 'app', nonce: nonce() }).subarray(5);
  const body = challengeBody({ appId: 'app', nonce: nonce(), pid: 1, startedAt: 2, version: '0.2.0' });
  const base = deriveKeys(secret, transcriptHash('127.0.0.1:5197', hello, body));
  assert.deepEqual(hex(deriveKeys(secret, transcriptHash('127.0.0.1:5197', hello, body))), hex(base), 'deterministic');
  const flipped = (b: Buffer, i: number) => Buffer.concat([b.subarray(0, i), Buffer.of((b[i] as number) ^ 1), b.subarray(i + 1)]);
  const variants: Keys[] = [
    deriveKeys(secretKey(randomBytes(32)), transcriptHash('127.0.0.1:5197', hello, body)),
    deriveKeys(secret, transcriptHash('127.0.0.1:5198', hello, body)), // a relay from another port
    deriveKeys(secret, transcriptHash('127.0.0.2:5197', hello, body)),
    deriveKeys(secret, transcriptHash('127.0.0.1:5197', body, hello)),
    // Moving a byte across the boundary between two parts must not give the same transcript.
    deriveKeys(secret, transcriptHash('127.0.0.1:519', Buffer.concat([Buffer.from('7'), hello]), body)),
  ];
  for (const at of [0, 4, hello.length - 1]) variants.push(deriveKeys(secret, transcriptHash('127.0.0.1:5197', flipped(hello, at), body)));
  for (const at of [0, body.length >> 1, body.length - 1]) variants.push(deriveKeys(secret, transcriptHash('127.0.0.1:5197', hello, flipped(body, at))));
  const seen = new Set(hex(base));
  for (const v of variants) for (const h of hex(v)) seen.add(h);
  assert.equal(seen.size, 4 * (variants.length + 1), 'every variant gives four keys of its own');
});

test('four different keys: no proof equals the other proof or a sealing key', () => {
  const k = deriveKeys(secretKey(randomBytes(32)), randomBytes(32));
  assert.equal(new Set(hex(k)).size, 4);
  assert.equal(proofMatches(k.holderProof, k.launcherProof), false);
  assert.equal(proofMatches(k.holderProof, undefined), false);
  assert.equal(proofMatches(k.holderProof, k.holderProof.subarray(0, 16)), false);
  assert.ok(proofMatches(k.holderProof, Buffer.from(k.holderProof)));
});

test('the schedule is the one docs/protocol.md states, restated here with node:crypto alone', () => {
  // TH = SHA-256(len ‖ "lock-socket/2" ‖ len ‖ endpoint ‖ len ‖ HELLO payload ‖ len ‖ CHALLENGE body), len = u32 BE;
  // OKM = HKDF-SHA256(IKM = secret, salt = TH, info = "lock-socket/2 keys", 128 bytes)
  //     = holder finished key ‖ launcher finished key ‖ holder key ‖ launcher key;
  // holder proof = HMAC(holder finished key, TH); launcher proof = HMAC(launcher finished key, TH ‖ holder proof).
  const secret = Buffer.alloc(32, 0x5a);
  const parts = ['lock-socket/2', '127.0.0.1:27182', 'hello', 'challenge'].map((p) => Buffer.from(p));
  const th = createHash('sha256').update(Buffer.concat(parts.flatMap((p) => [Buffer.from([0, 0, p.length >> 8, p.length & 255]), p]))).digest();
  assert.deepEqual(transcriptHash('127.0.0.1:27182', Buffer.from('hello'), Buffer.from('challenge')), th);
  const okm = Buffer.from(hkdfSync('sha256', secret, th, 'lock-socket/2 keys', 128));
  const holderProof = createHmac('sha256', okm.subarray(0, 32)).update(th).digest();
  const launcherProof = createHmac('sha256', okm.subarray(32, 64)).update(th).update(holderProof).digest();
  const keys = deriveKeys(secretKey(secret), th);
  assert.deepEqual(hex(keys), [holderProof, launcherProof, okm.subarray(64, 96), okm.subarray(96)].map((b) => b.toString('hex')));
  // And pinned, so that a change to both the code and the restatement above cannot pass unseen:
  // every release that speaks protocol 2 must derive these bytes.
  assert.equal(keys.holderProof.toString('hex'), 'a94b3499ed9076d480792edcd462e435b197b422cd9b265e04d366a8271b961e');
});
