// The lock's error codes and the one error class. Nothing here binds a socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getSystemErrorMap, inspect } from 'node:util';
import { ErrorCode, LockSocketError } from '../../src/lock/index.js';
import { isErrorCode } from '../../src/lock/errors.js';

/** Every code Node gives a system error (EACCES, EBUSY, ETIMEDOUT, ...), on every platform. */
const systemCodes = new Set([...getSystemErrorMap().values()].map(([name]) => name));

test('no code of the lock is one Node gives system errors', () => {
  assert.ok(systemCodes.has('EADDRINUSE') && systemCodes.has('EACCES'), 'control: the map holds the system codes');
  for (const code of Object.values(ErrorCode)) assert.ok(!systemCodes.has(code), `${code} is also a system error's code`);
});

test('each code is its own name, and isErrorCode knows exactly these', () => {
  for (const [name, code] of Object.entries(ErrorCode)) {
    assert.equal(code, name);
    assert.equal(isErrorCode(code), true);
  }
  // The single-instance layer's codes are not the lock's (src/main/errors.ts has them).
  for (const other of ['EAUTH', 'ENOLISTENER', 'EACCES', 'elocked', '', 1, undefined]) assert.equal(isErrorCode(other), false, String(other));
});

test('a LockSocketError carries its code, message and cause, and shows its name', () => {
  const cause = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
  const error = new LockSocketError(ErrorCode.ELOCKED, '127.0.0.1:5197 is locked', { cause });
  assert.ok(error instanceof Error);
  assert.equal(error.name, 'LockSocketError');
  assert.equal(error.code, 'ELOCKED');
  assert.equal(error.message, '127.0.0.1:5197 is locked');
  assert.equal(error.cause, cause);
  assert.match(error.stack ?? '', /^LockSocketError: 127\.0\.0\.1:5197 is locked\n/);
  // util.inspect names the constructor when it differs from `name`: it must not.
  assert.match(inspect(error), /^LockSocketError: 127\.0\.0\.1:5197 is locked\n/);
});
