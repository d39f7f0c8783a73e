// `lock-socket`: the lock. The single-instance layer lives in `lock-socket/main`.
export * from './lock/index.js';
