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
