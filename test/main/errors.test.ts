// The single-instance layer's codes: its own joined with the lock's, one class for both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getSystemErrorMap } from 'node:util';
import * as lock from '../../src/lock/errors.js';
import { ErrorCode, LockSocketError, isErrorCode, noListenerMessage } from '../../src/main/errors.js';

const systemCodes = new Set([...getSystemErrorMap().values()].map(([name]) => name));

test("ErrorCode is the lock's codes and this layer's, each its own name", () => {
  for (const [name, code] of Object.entries(lock.ErrorCode)) assert.equal((ErrorCode as Record<string, string>)[name], code);
  const own = Object.values(ErrorCode).filter((code) => !lock.isErrorCode(code));
  assert.ok(own.includes('EAUTH') && own.includes('ENOLISTENER') && own.includes('EHANDSHAKETIMEOUT'));
  assert.equal(Object.keys(ErrorCode).length, Object.keys(lock.ErrorCode).length + own.length);
  for (const [name, code] of Object.entries(ErrorCode)) {
    assert.equal(code, name);
    assert.equal(isErrorCode(code), true);
  }
  assert.equal(isErrorCode('ENOPE'), false);
  assert.equal(isErrorCode('EBUSY'), false);
});

test('no code is one Node gives system errors', () => {
  for (const code of Object.values(ErrorCode)) assert.ok(!systemCodes.has(code), `${code} is also a system error's code`);
});

test("one class: an error of this layer is the lock's LockSocketError", () => {
  assert.equal(LockSocketError, lock.LockSocketError);
  const error = new LockSocketError(ErrorCode.EAUTH, 'wrong proof');
  assert.ok(error instanceof lock.LockSocketError);
  assert.equal(error.name, 'LockSocketError');
  assert.equal(error.code, 'EAUTH');
});

test('the ENOLISTENER message names the endpoint, IPv6 in brackets', () => {
  assert.match(noListenerMessage('127.0.0.1', 5197), /^127\.0\.0\.1:5197 is held by a socket that accepts no connections/);
  assert.match(noListenerMessage('::1', 5197), /^\[::1\]:5197 is held/);
});
