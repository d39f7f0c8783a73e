/**
 * The one error class of lock-socket, shared by both layers. Each layer has its own closed set
 * of codes (src/lock/errors.ts, src/main/errors.ts) and exports this class narrowed to it, so
 * `error.code` is the exact union of the entry point it came from, and `instanceof` narrows to
 * it (an `instanceof` on a generic class would give `code: any`).
 */
export class LockSocketError<Code extends string> extends Error {
  override readonly name = 'LockSocketError';
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The type guard of one layer's codes: true when `code` is one of the values of `codes`. */
export function codeGuard<Code extends string>(codes: Readonly<Record<string, Code>>): (code: unknown) => code is Code {
  const known: ReadonlySet<string> = new Set(Object.values(codes));
  return (code: unknown): code is Code => typeof code === 'string' && known.has(code);
}

/** {@link LockSocketError} as one layer exports it: constructible with, and narrowing to, that layer's codes. */
export interface LockSocketErrorClass<Code extends string> {
  new (code: Code, message: string, options?: { cause?: unknown }): LockSocketError<Code>;
  readonly prototype: LockSocketError<Code>;
}
