/**
 * DIDComm media types (DIDComm Messaging v2.1 §IANA Media Types; reference/didcomm-spec.md §1.2)
 * and our compact profile's type, plus a light sniffer that picks one from a frame's bytes.
 *
 * Transports never parse envelopes; the sniffer only looks at the first non-blank byte (JSON starts
 * with `{`, every other frame is compact CBOR — DESIGN.md §3) and, for JSON, at the names of the
 * top-level members that tell a JWE (`ciphertext`, `recipients`) or a JWS (`signatures`, or
 * `payload` + `signature`) apart from a plaintext message. Callers that know the media type pass it
 * and skip the sniffing.
 */
import { err } from '../../src/errors.js';
import { astring } from '../../src/util/bytes.js';

export const MEDIA_TYPE_ENCRYPTED = 'application/didcomm-encrypted+json';
export const MEDIA_TYPE_SIGNED = 'application/didcomm-signed+json';
export const MEDIA_TYPE_PLAIN = 'application/didcomm-plain+json';
/** Our compact CBOR profile (docs/compact.md), every envelope kind. */
export const MEDIA_TYPE_COMPACT = 'application/didcomm-compact';

export const DIDCOMM_MEDIA_TYPES = [MEDIA_TYPE_ENCRYPTED, MEDIA_TYPE_SIGNED, MEDIA_TYPE_PLAIN, MEDIA_TYPE_COMPACT] as const;
export type DidcommMediaType = (typeof DIDCOMM_MEDIA_TYPES)[number];

/**
 * Normalises a `Content-Type` value: drops parameters (`; charset=...`), lowercases, and reads a
 * type without `/` as `application/<type>` (spec §IANA Media Types). Returns the DIDComm media type
 * or undefined when it is not one.
 */
export function parseDidcommMediaType(contentType: string | undefined | null): DidcommMediaType | undefined {
  if (typeof contentType !== 'string') return undefined;
  let t = contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (t.length === 0) return undefined;
  if (!t.includes('/')) t = `application/${t}`;
  return (DIDCOMM_MEDIA_TYPES as readonly string[]).includes(t) ? (t as DidcommMediaType) : undefined;
}

/** Throws ERR_ARGUMENT unless `value` names a DIDComm media type; returns the normalised type. */
export function assertDidcommMediaType(value: unknown): DidcommMediaType {
  const t = parseDidcommMediaType(astring(value, 'media type'));
  if (!t) throw err('ERR_ARGUMENT', `media type: not a DIDComm media type (${DIDCOMM_MEDIA_TYPES.join(', ')})`);
  return t;
}

function isBlank(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const INTERESTING_KEYS = ['ciphertext', 'recipients', 'payload', 'signatures', 'signature'];

/**
 * Names of the top-level members of the JSON object starting at `frame[start]` (only those in
 * INTERESTING_KEYS, compared as raw bytes). One linear pass that tracks string and nesting state; it
 * does not validate JSON (the envelope layer does), it only must not be fooled by nested members.
 */
function topLevelKeys(frame: Uint8Array, start: number): Set<string> {
  const found = new Set<string>();
  let depth = 0;
  for (let i = start; i < frame.length; i++) {
    const b = frame[i]!;
    if (b === QUOTE) {
      const from = i + 1;
      i++;
      while (i < frame.length && frame[i] !== QUOTE) i += frame[i] === BACKSLASH ? 2 : 1;
      if (depth !== 1) continue;
      let j = i + 1;
      while (j < frame.length && isBlank(frame[j]!)) j++;
      if (frame[j] !== 0x3a) continue; // not followed by ':' -> a value, not a member name
      const len = i - from;
      if (len > 10) continue;
      const name = String.fromCharCode(...frame.subarray(from, i));
      if (INTERESTING_KEYS.includes(name)) found.add(name);
    } else if (b === 0x7b || b === 0x5b) {
      depth++;
    } else if (b === 0x7d || b === 0x5d) {
      depth--;
      if (depth === 0) break;
    }
  }
  return found;
}

/**
 * The media type of `frame` by sniffing: compact unless the first non-blank byte is `{`; for JSON,
 * encrypted when the top-level object has `ciphertext` or `recipients` (JWE), signed when it has
 * `signatures` or `payload` + `signature` (JWS general / flattened), plaintext otherwise.
 * Empty frames are ERR_ARGUMENT.
 */
export function sniffMediaType(frame: Uint8Array): DidcommMediaType {
  let i = 0;
  while (i < frame.length && isBlank(frame[i]!)) i++;
  if (i >= frame.length) throw err('ERR_ARGUMENT', 'frame: empty');
  if (frame[i] !== 0x7b) return MEDIA_TYPE_COMPACT;
  const keys = topLevelKeys(frame, i);
  if (keys.has('ciphertext') || keys.has('recipients')) return MEDIA_TYPE_ENCRYPTED;
  if (keys.has('signatures') || (keys.has('payload') && keys.has('signature'))) return MEDIA_TYPE_SIGNED;
  return MEDIA_TYPE_PLAIN;
}
