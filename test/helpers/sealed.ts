/**
 * Sealed messages for the tests of the pure message decoders, which take only an `Opened`: the
 * real path (seal, frame, open) with a throwaway key, for any type and payload.
 */
import { randomBytes } from 'node:crypto';
import { FrameDecoder, type SealedTypeValue } from '../../src/main/frame.js';
import { Opener, Sealer, type Opened } from '../../src/main/seal.js';

const key = randomBytes(32);

export function opened(type: number, payload: Uint8Array): Opened {
  const decoder = new FrameDecoder({ maxFrameBytes: 64 * 1024 * 1024 });
  decoder.write(new Sealer(key).seal(type as SealedTypeValue, payload));
  return new Opener(key).open(decoder.read()!);
}

/** A sealed message whose payload is `value` as JSON. */
export function openedJson(type: number, value: unknown): Opened {
  return opened(type, Buffer.from(JSON.stringify(value) ?? 'null'));
}
