/**
 * The one way tests assert a lock-socket failure: a LockSocketError (not just any error) with
 * this code, its message shown when the code differs, and optionally a message pattern. Returns
 * the error for further checks.
 */
import assert from 'node:assert/strict';
import { LockSocketError, type LockSocketErrorCode } from '../../src/main/errors.js';

function check(error: unknown, code: LockSocketErrorCode, message: RegExp | undefined): LockSocketError {
  assert.ok(error instanceof LockSocketError, `expected a LockSocketError ${code}, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  if (message !== undefined) assert.match(error.message, message);
  return error;
}

/** `promise` rejects with a LockSocketError of `code` (whose message matches `message`). */
export async function rejectsWith(promise: Promise<unknown>, code: LockSocketErrorCode, message?: RegExp): Promise<LockSocketError> {
  try {
    await promise;
  } catch (error) {
    return check(error, code, message);
  }
  assert.fail(`expected a rejection with ${code}`);
}

/** `fn()` throws a LockSocketError of `code` (whose message matches `message`). */
export function throwsWith(fn: () => unknown, code: LockSocketErrorCode, message?: RegExp): LockSocketError {
  try {
    fn();
  } catch (error) {
    return check(error, code, message);
  }
  assert.fail(`expected ${code} to be thrown`);
}
