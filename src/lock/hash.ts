/**
 * FNV-1a, 64 bits, over UTF-8 bytes. Shared by the secret's file name (src/main/secret.ts) and
 * the derived ports (./endpoints.ts). Not a cryptographic hash, and neither use needs one: both
 * only spread names over a space. Not sha256: a primary on Linux or macOS would then load
 * node:crypto at every start for these alone, most of what its start costs (docs/benchmarks.md:
 * P7's end-to-end note, "Issue 15").
 */

const OFFSET = 0xcbf29ce484222325n;
const PRIME = 0x100000001b3n;

/** FNV-1a 64 of `text` as a bigint. */
export function fnv1a64Bits(text: string): bigint {
  let hash = OFFSET;
  for (const byte of Buffer.from(text, 'utf8')) hash = BigInt.asUintN(64, (hash ^ BigInt(byte)) * PRIME);
  return hash;
}

/** FNV-1a 64 of `text` as 16 hex digits. */
export function fnv1a64(text: string): string {
  return fnv1a64Bits(text).toString(16).padStart(16, '0');
}
