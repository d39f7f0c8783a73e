// Type-level checks of the public API, in the style of get-port's type tests: compiled by
// `npm test` (tsc), so a lost or loosened type fails the build. The one runtime test only makes
// sure the file is part of the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode as LockErrorCode, LockSocketError as LockError, type LockSocketErrorCode as LockCode } from 'lock-socket';
import {
  ErrorCode,
  LockSocketError,
  type LockSocketErrorCode,
  requestSingleInstance,
  type Launch,
  type LaunchReply,
  type SingleInstance,
  type SingleInstanceOptions,
} from 'lock-socket/main';

export async function typeChecks(): Promise<void> {
  // Options: port and appId are required, the rest is optional and typed.
  const options: SingleInstanceOptions = { port: 27182, appId: 'com.example.app', env: ['XDG_ACTIVATION_TOKEN'], replyTimeout: Infinity };
  // @ts-expect-error appId is required: two apps sharing a port must not talk to each other
  const noAppId: SingleInstanceOptions = { port: 27182 };
  // @ts-expect-error data must be JSON, not a function
  const badData: SingleInstanceOptions = { port: 1, appId: 'a', data: () => 1 };
  void [noAppId, badData];

  const instance: SingleInstance = await requestSingleInstance(options);
  instance.on('second-instance', (launch: Launch, reply) => {
    const argv: string[] = launch.argv;
    const env: Record<string, string> = launch.env;
    void [argv, env, launch.cwd, launch.pid, launch.data];
    reply({ exitCode: 0, message: 'ok', data: { files: argv } });
    // @ts-expect-error exitCode is a number
    reply({ exitCode: '0' });
    // @ts-expect-error a reply needs an exitCode
    reply({ message: 'no code' });
  });
  const answer: LaunchReply | undefined = instance.reply;
  void answer;

  // Error codes are a closed union of string literals: a typo does not compile.
  try {
    await instance.close();
  } catch (error) {
    if (error instanceof LockSocketError) {
      const code: LockSocketErrorCode = error.code;
      if (code === 'ELOCKED' || code === ErrorCode.EAUTH) void code;
      // @ts-expect-error 'ENOPE' is not one of the codes
      if (code === 'ENOPE') void code;
      // @ts-expect-error instanceof narrows `code` to the union, not to any
      const notANumber: number = error.code;
      void notANumber;
    }
  }
  // `lock-socket` alone has the lock's codes only: the single-instance layer's are not among them.
  try {
    await instance.close();
  } catch (error) {
    if (error instanceof LockError) {
      const code: LockCode = error.code;
      if (code === 'ELOCKED' || code === LockErrorCode.EPORTDENIED) void code;
      // @ts-expect-error EAUTH is the single-instance layer's, not the lock's
      if (code === 'EAUTH') void code;
      // @ts-expect-error instanceof narrows `code` to the lock's union, not to any
      const notANumber: number = error.code;
      void notANumber;
    }
  }
  await using disposable = await requestSingleInstance(options); // AsyncDisposable
  void disposable;
}

test('the type-level checks compiled (see typeChecks above)', () => {
  assert.equal(typeof typeChecks, 'function');
});

test('both entry points export the one error class', () => {
  assert.equal(LockError, LockSocketError);
  assert.ok(new LockSocketError(ErrorCode.EAUTH, 'x') instanceof LockError);
});
