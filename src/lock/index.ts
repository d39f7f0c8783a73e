/**
 * The lock on its own: no Electron, no protocol. Imports only `node:*` and files of this
 * folder (test/package.test.ts checks it), so `lock-socket` is safe to load anywhere.
 *
 * The public surface of `lock-socket`: test/package.test.ts pins this list. Checks and limits
 * the lock runs for itself (validatePort, MAX_SCHEME_UID, the derived-port range, ...) stay
 * inside; the README states their values and test/readme.test.ts compares them with the code.
 */
export { LockSocket, lockSocket, tryLockSocket } from './lock-socket.js';
export type { LockSocketOptions } from './lock-socket.js';
export { SYSTEM_ADDRESS, defaultAddress } from './address.js';
export type { DefaultAddressInput } from './address.js';
export { isHeld } from './probe.js';
export { lockEndpoints } from './endpoints.js';
export type { LockEndpoint, LockEndpointsInput } from './endpoints.js';
export { ErrorCode, LockSocketError } from './errors.js';
export type { LockSocketErrorCode } from './errors.js';
