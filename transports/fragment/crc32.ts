/**
 * CRC-32 (IEEE 802.3 / ISO-HDLC: reflected polynomial 0xEDB88320, init and final XOR 0xFFFFFFFF),
 * the whole-message integrity check of the fragmentation layer (`header.ts`). It is the same CRC
 * as zlib/PNG/Ethernet, so `crc32(utf8('123456789')) === 0xcbf43926`. Not a MAC: it catches
 * corruption and fragments mixed from two messages, not an attacker.
 */

let table: Uint32Array | undefined;

function crcTable(): Uint32Array {
  if (table) return table;
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  table = t;
  return t;
}

/** CRC-32 of the concatenation of `parts`, as an unsigned 32-bit number. */
export function crc32(...parts: Uint8Array[]): number {
  const t = crcTable();
  let c = 0xffffffff;
  for (const bytes of parts) {
    for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}
