/**
 * lock-socket/main: single instance for an app's main process (plain Node or Electron).
 * The lock API of 'lock-socket' is re-exported, so one import serves both layers.
 *
 * The public surface: test/package.test.ts pins this list. SingleInstance is exported as a type
 * only: instances come from requestSingleInstance, and its constructor takes internal types.
 */
export * from '../lock/index.js';
// These shadow the lock's names of the line above: this entry's codes are the lock's and the
// single-instance layer's together (src/main/errors.ts), on the one LockSocketError class.
export { ErrorCode, LockSocketError } from './errors.js';
export type { LockSocketErrorCode } from './errors.js';
export { requestSingleInstance, instanceStatus } from './instance.js';
export type { SingleInstance, SingleInstanceOptions, StatusOptions } from './instance.js';
export { forwardLaunch } from './forward.js';
export type { Delivery, HolderStatus, JsonValue, Launch, LaunchReply, ReplyFunction, SecondInstanceListener } from './types.js';
export { defaultSecretDir, secretPath } from './secret.js';
export {
  requestSingleInstanceLock,
  releaseSingleInstanceLock,
  getSingleInstance,
  focusWindow,
  onSecondInstance,
  ELECTRON_FORWARD_ENV,
} from './electron.js';
export type { ElectronApp, ElectronLockOptions, ElectronSecondInstanceListener, SecondInstanceEvent, FocusableWindow } from './electron.js';
export type { AllowForeground } from './foreground.js';
export { defaults } from './defaults.js';
