/**
 * DIDComm Compact frame markers (docs/compact.md §2). The first byte of every compact frame is
 * 0xE0–0xEF (CBOR major type 7, which no JSON text, CBOR map or COSE tag starts with): the high
 * nibble 0xE is version 1, the low nibble the frame kind. JSON starts with `{` (or whitespace).
 */
import { err } from '../../errors.js';
import { encodeCbor } from '../../cbor/encode.js';
import { decodeCbor, type CborDecodeOptions } from '../../cbor/decode.js';
import type { CborValue } from '../../cbor/types.js';

export const MARKER = {
  PLAIN: 0xe0,
  PLAIN_TO_IMPLICIT: 0xe1,
  PLAIN_FROM_IMPLICIT: 0xe2,
  PLAIN_BOTH_IMPLICIT: 0xe3,
  SIGNED: 0xe4,
  ANONCRYPT: 0xe5,
  AUTHCRYPT: 0xe6,
  ANONCRYPT_MULTI: 0xe7,
  AUTHCRYPT_MULTI: 0xe8,
  PAIRWISE: 0xe9,
} as const;

export type FrameKind = 'plain' | 'signed' | 'anoncrypt' | 'authcrypt' | 'pairwise';

export const COMPACT_MEDIA_TYPE = 'application/didcomm-compact';

/** Frame format of raw bytes: 'json', 'compact', or undefined if neither. */
export function sniffFormat(bytes: Uint8Array): 'json' | 'compact' | undefined {
  for (const b of bytes) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    if (b === 0x7b) return 'json';
    break;
  }
  const first = bytes[0];
  if (first !== undefined && first >= 0xe0 && first <= 0xef) return 'compact';
  return undefined;
}

export function kindOf(marker: number): FrameKind {
  if (marker >= MARKER.PLAIN && marker <= MARKER.PLAIN_BOTH_IMPLICIT) return 'plain';
  if (marker === MARKER.SIGNED) return 'signed';
  if (marker === MARKER.ANONCRYPT || marker === MARKER.ANONCRYPT_MULTI) return 'anoncrypt';
  if (marker === MARKER.AUTHCRYPT || marker === MARKER.AUTHCRYPT_MULTI) return 'authcrypt';
  if (marker === MARKER.PAIRWISE) return 'pairwise';
  if (marker >= 0xe0 && marker <= 0xef) throw err('ERR_UNSUPPORTED', `compact frame kind 0x${marker.toString(16)} is reserved`);
  if (marker >= 0xf0 && marker <= 0xf7) throw err('ERR_UNSUPPORTED', `compact version ${marker >> 3} is not supported`);
  throw err('ERR_MALFORMED', 'not a DIDComm Compact frame');
}

/** Decoding limits for frame bodies (compact frames are small by design). */
export const FRAME_LIMITS: CborDecodeOptions = { maxDepth: 24, maxItems: 8192, allowedTags: [37] };

export function withMarker(marker: number, body: CborValue): Uint8Array {
  const enc = encodeCbor(body);
  const out = new Uint8Array(enc.length + 1);
  out[0] = marker;
  out.set(enc, 1);
  return out;
}

export function bodyOf(frame: Uint8Array): CborValue {
  return decodeCbor(frame.subarray(1), FRAME_LIMITS);
}

export function plainMarker(fromImplicit: boolean, toImplicit: boolean): number {
  return MARKER.PLAIN | (toImplicit ? 1 : 0) | (fromImplicit ? 2 : 0);
}
