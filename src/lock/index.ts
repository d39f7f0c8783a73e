/**
 * The lock on its own: no Electron, no protocol. Imports only `node:*` and files of this
 * folder (test/package.test.ts checks it), so `lock-socket` is safe to load anywhere.
 */
export { LockSocket, lockSocket, tryLockSocket } from './lock-socket.js';
export type { LockSocketOptions } from './lock-socket.js';
export { SYSTEM_ADDRESS, MAX_SCHEME_UID, defaultAddress, validateAddress, validatePort } from './address.js';
export type { DefaultAddressInput } from './address.js';
export { isHeld } from './probe.js';
export { ALTERNATIVE_PORTS, DERIVED_PORT_MAX, DERIVED_PORT_MIN, MAX_ALTERNATIVE_PORTS, lockEndpoints } from './endpoints.js';
export type { LockEndpoint, LockEndpointsInput } from './endpoints.js';
export { ErrorCode, LockSocketError, isErrorCode } from './errors.js';
export type { LockSocketErrorCode } from './errors.js';
