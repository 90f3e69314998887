/**
 * Byte <-> string conversion for UART text protocols (AT commands). Latin-1 maps every byte to
 * exactly one UTF-16 code unit, so garbage on the line survives a round trip unchanged and a
 * length field counted in bytes equals the string length (RYLR `+RCV=addr,len,data`).
 */

export function bytesToLatin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 4096) {
    s += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 4096)));
  }
  return s;
}

export function latin1ToBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}
