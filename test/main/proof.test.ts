// proof.ts: fresh nonces, and proofs that bind everything they should.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { makeProof, nonce, proofMatches } from '../../src/main/proof.js';
import { NONCE_BYTES } from '../../src/main/constants.js';

test('nonces are 32 bytes and never repeat, across refills of their pool', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const n = nonce();
    assert.equal(n.length, NONCE_BYTES);
    seen.add(n.toString('hex'));
  }
  assert.equal(seen.size, 1000);
});

test('a nonce handed out is not changed by later ones', () => {
  const first = nonce();
  const copy = Buffer.from(first);
  for (let i = 0; i < 300; i++) nonce();
  assert.deepEqual(first, copy);
});

test('a proof binds the secret, the role, the operation, the appId and both nonces', () => {
  const secret = randomBytes(32);
  const [a, b] = [nonce(), nonce()];
  const base = makeProof(secret, 'holder', 'launch', 'app', a, b);
  assert.ok(proofMatches(base, makeProof(secret, 'holder', 'launch', 'app', a, b)));
  const variants = [
    makeProof(randomBytes(32), 'holder', 'launch', 'app', a, b),
    makeProof(secret, 'launcher', 'launch', 'app', a, b),
    makeProof(secret, 'holder', 'wait', 'app', a, b),
    makeProof(secret, 'holder', 'launch', 'app2', a, b),
    makeProof(secret, 'holder', 'launch', 'app', b, a),
    makeProof(secret, 'holder', 'launch', 'app', nonce(), b),
  ];
  for (const v of variants) assert.equal(proofMatches(base, v), false);
  assert.equal(proofMatches(base, undefined), false);
  assert.equal(proofMatches(base, base.subarray(0, 16)), false);
});

test('proofs are the same bytes as protocol version 1 has always sent (known answers)', () => {
  // Pinned from the build before proofs were keyed with a KeyObject: a holder and a launcher of
  // different releases must still agree. Each is asked three times: a new key, the cached key,
  // and the cached key again for a copy of the secret (a new Buffer with the same bytes).
  const secret = Buffer.alloc(32, 0x5a);
  const [a, b] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
  const known = {
    holder: 'bb753e037ed27586a5419984784bb2569656c64712c349ab8d590b4feddeba40',
    launcher: 'c2956979c5270f8761c5d57ba8cee0493e953edcc770a17628802bf1fdf97ce4',
  } as const;
  for (const role of ['holder', 'launcher'] as const) {
    for (const key of [secret, secret, Buffer.from(secret)]) {
      assert.equal(makeProof(key, role, 'launch', 'com.example.app', a, b).toString('hex'), known[role]);
    }
  }
});

test('a cached key never answers for another secret', () => {
  const [a, b] = [nonce(), nonce()];
  const proofs = new Set<string>();
  for (let i = 0; i < 50; i++) proofs.add(makeProof(randomBytes(32), 'holder', 'launch', 'app', a, b).toString('hex'));
  assert.equal(proofs.size, 50);
});

test('a secret rewritten in place is proved with its new bytes', () => {
  const [a, b] = [nonce(), nonce()];
  const secret = randomBytes(32);
  const before = makeProof(secret, 'holder', 'launch', 'app', a, b);
  secret[0] = (secret[0] ?? 0) ^ 0xff;
  const after = makeProof(secret, 'holder', 'launch', 'app', a, b);
  assert.notDeepEqual(after, before);
  assert.deepEqual(after, makeProof(Buffer.from(secret), 'holder', 'launch', 'app', a, b));
});
