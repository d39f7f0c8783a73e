/**
 * lock-socket/main: single instance for an app's main process (plain Node or Electron).
 * The lock API of 'lock-socket' is re-exported, so one import serves both layers.
 */
export * from '../lock/index.js';
// These four shadow the lock's names of the line above: this entry's codes are the lock's and the
// single-instance layer's together (src/main/errors.ts).
export { ErrorCode, LockSocketError, isErrorCode } from './errors.js';
export type { LockSocketErrorCode } from './errors.js';
export { requestSingleInstance, instanceStatus, SingleInstance } from './instance.js';
export { forwardLaunch } from './forward.js';
export type { SingleInstanceOptions, StatusOptions } from './instance.js';
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
export {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_REPLY_TIMEOUT_MS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_ARGS,
  DEFAULT_MAX_ARG_BYTES,
  DEFAULT_MAX_QUEUE,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_UNAUTHENTICATED,
  DEFAULT_RETRIES,
  PROTOCOL_VERSION,
  LIBRARY_VERSION,
} from './constants.js';
