/**
 * Mutations for the fuzzer: bit flips, byte sets/inserts/deletes, truncation, duplication of a
 * range, splicing two corpus entries, and "interesting" values (0x00, 0xff, CBOR heads, JSON
 * punctuation) — structure-agnostic, so every decoder gets the same treatment. Seeded PRNG.
 */
import type { Prng } from '../../src/util/prng.js';

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x5f, 0x7b, 0x7d, 0x22, 0x5b, 0x5d, 0x3a, 0x2c, 0x9f, 0xbf, 0xe0, 0xe9, 0xf9, 0xfb];

export function mutate(input: Uint8Array, corpus: Uint8Array[], rng: Prng, maxLength: number): Uint8Array {
  let b = Array.from(input);
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    const pos = b.length ? rng.int(b.length) : 0;
    switch (rng.int(9)) {
      case 0:
        if (b.length) b[pos] = b[pos]! ^ (1 << rng.int(8));
        break;
      case 1:
        if (b.length) b[pos] = rng.int(256);
        break;
      case 2:
        b.splice(pos, 0, rng.int(256));
        break;
      case 3:
        if (b.length) b.splice(pos, 1 + rng.int(Math.min(8, b.length - pos)));
        break;
      case 4:
        b = b.slice(0, rng.int(b.length + 1));
        break;
      case 5: {
        const len = 1 + rng.int(16);
        b.splice(pos, 0, ...b.slice(pos, pos + len));
        break;
      }
      case 6: {
        const other = corpus[rng.int(corpus.length)]!;
        const cut = rng.int(other.length + 1);
        b = [...b.slice(0, pos), ...Array.from(other.subarray(cut))];
        break;
      }
      case 7:
        if (b.length) b[pos] = INTERESTING[rng.int(INTERESTING.length)]!;
        break;
      default: {
        // Add or subtract a small number from a byte (length fields, counters).
        if (b.length) b[pos] = (b[pos]! + (rng.int(2) ? 1 : 255) * (1 + rng.int(4))) & 0xff;
      }
    }
  }
  if (b.length > maxLength) b = b.slice(0, maxLength);
  return Uint8Array.from(b);
}
