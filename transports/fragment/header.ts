/**
 * Wire format of the fragmentation layer: data fragments and control frames, and the split of a
 * message into fragments. Designed for 20-byte BLE writes and 51-byte LoRaWAN frames: a data
 * fragment costs 2 bytes of header (3 from fragment index 128 on) and the last one 4 more for
 * the message's CRC-32. The repair exchange follows SCHC ACK-on-error (RFC 8724 §8.4.3): the
 * receiver asks for the missing fragments with a compact bitmap. See README.md for the exchange.
 *
 * Byte 0 of every frame (bit 7 = most significant):
 *
 *   data:     0 L A i i i i i    L = last fragment (carries the CRC), A = ack-on-error wanted,
 *                                iiiii = message id (0..31)
 *   control:  1 T T i i i i i    TT = 00 ACK, 01 REQUEST, 10 PROBE, 11 REFUSE; iiiii = message id
 *
 * A fragment index is 1 byte `0xxxxxxx` (0..127) or 2 bytes `1xxxxxxx xxxxxxxx` (128..32767,
 * big-endian, 15 bits; a 2-byte form of a value below 128 is malformed). All integers are
 * big-endian. Layouts after byte 0:
 *
 *   data      index(1-2) [CRC(4) if L] payload(*)      non-last fragments carry >= 1 payload byte
 *   ACK       CRC(4)                                    exactly 5 bytes
 *   REQUEST   round(1) start-index(1-2) bitmap(>=1)    bit k (MSB first) set = fragment start+k is
 *                                                      missing; a bitmap of zeros is malformed
 *   PROBE     last-index(1-2) CRC(4)                    "did you get message id?" from the sender
 *   REFUSE    reason(1)                                 1 = message too large for the receiver
 *
 * CRC = CRC-32 (IEEE) over the message id byte followed by the whole message (`messageCrc`).
 * Anything else (empty frame, truncation, wrong length) is ERR_MALFORMED.
 */
import { err } from '../../src/errors.js';
import { crc32 } from './crc32.js';

export const MAX_MESSAGE_ID = 31;
export const MAX_FRAGMENT_INDEX = 0x7fff;
export const CRC_LENGTH = 4;
/** Smallest inner mtu the layer accepts: a 3-byte header plus the CRC plus one byte. */
export const MIN_INNER_MTU = 8;
export const REFUSE_TOO_LARGE = 1;

/**
 * The integrity check carried by the last fragment, the ACK and the PROBE: CRC-32 over the message
 * id (one byte) followed by the message, so a fragment whose id bits were damaged cannot complete
 * another message.
 */
export function messageCrc(id: number, message: Uint8Array): number {
  return crc32(Uint8Array.of(id), message);
}

export interface DataFragment {
  kind: 'data';
  id: number;
  index: number;
  last: boolean;
  ackWanted: boolean;
  /** `messageCrc(id, message)` (last fragment only, else 0). */
  crc: number;
  payload: Uint8Array;
}
export interface AckFrame {
  kind: 'ack';
  id: number;
  crc: number;
}
export interface RequestFrame {
  kind: 'request';
  id: number;
  round: number;
  start: number;
  bitmap: Uint8Array;
}
export interface ProbeFrame {
  kind: 'probe';
  id: number;
  lastIndex: number;
  crc: number;
}
export interface RefuseFrame {
  kind: 'refuse';
  id: number;
  reason: number;
}
export type ControlFrame = AckFrame | RequestFrame | ProbeFrame | RefuseFrame;
export type FragmentFrame = DataFragment | ControlFrame;

const CONTROL_TYPES = ['ack', 'request', 'probe', 'refuse'] as const;

/** Bytes taken by a fragment index. */
export function indexLength(index: number): 1 | 2 {
  return index < 128 ? 1 : 2;
}

function writeIndex(out: Uint8Array, at: number, index: number): number {
  if (index < 128) {
    out[at] = index;
    return at + 1;
  }
  out[at] = 0x80 | (index >> 8);
  out[at + 1] = index & 0xff;
  return at + 2;
}

function writeU32(out: Uint8Array, at: number, v: number): number {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
  return at + 4;
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function readIndex(b: Uint8Array, at: number): { index: number; next: number } {
  if (at >= b.length) throw err('ERR_MALFORMED', 'fragment: truncated index');
  const first = b[at]!;
  if ((first & 0x80) === 0) return { index: first, next: at + 1 };
  if (at + 1 >= b.length) throw err('ERR_MALFORMED', 'fragment: truncated index');
  const index = ((first & 0x7f) << 8) | b[at + 1]!;
  if (index < 128) throw err('ERR_MALFORMED', 'fragment: non-canonical index');
  return { index, next: at + 2 };
}

export function encodeData(f: Omit<DataFragment, 'kind'>): Uint8Array {
  const out = new Uint8Array(1 + indexLength(f.index) + (f.last ? CRC_LENGTH : 0) + f.payload.length);
  out[0] = (f.last ? 0x40 : 0) | (f.ackWanted ? 0x20 : 0) | f.id;
  let at = writeIndex(out, 1, f.index);
  if (f.last) at = writeU32(out, at, f.crc);
  out.set(f.payload, at);
  return out;
}

export function encodeAck(id: number, crc: number): Uint8Array {
  const out = new Uint8Array(5);
  out[0] = 0x80 | id;
  writeU32(out, 1, crc);
  return out;
}

export function encodeRequest(id: number, round: number, start: number, bitmap: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + indexLength(start) + bitmap.length);
  out[0] = 0xa0 | id;
  out[1] = round & 0xff;
  out.set(bitmap, writeIndex(out, 2, start));
  return out;
}

export function encodeProbe(id: number, lastIndex: number, crc: number): Uint8Array {
  const out = new Uint8Array(1 + indexLength(lastIndex) + CRC_LENGTH);
  out[0] = 0xc0 | id;
  writeU32(out, writeIndex(out, 1, lastIndex), crc);
  return out;
}

export function encodeRefuse(id: number, reason: number): Uint8Array {
  return Uint8Array.of(0xe0 | id, reason & 0xff);
}

/** Bytes of bitmap a REQUEST starting at `start` can carry within `mtu`. */
export function requestBitmapCapacity(mtu: number, start: number): number {
  return mtu - 2 - indexLength(start);
}

/**
 * One round of REQUEST frames for a partial message: bitmaps of the missing fragments, lowest
 * first, at most `maxFrames` frames of at most `mtu` bytes. When the last index is not known yet,
 * the bitmap that passes the highest received index marks everything after it as missing (the
 * sender skips indices beyond its message) and the round stops there.
 */
export function encodeMissingRequests(r: {
  id: number;
  round: number;
  have(index: number): boolean;
  lastIndex: number | undefined;
  maxIndex: number;
  mtu: number;
  maxFrames: number;
}): Uint8Array[] {
  const upper = r.lastIndex ?? MAX_FRAGMENT_INDEX;
  const nextMissing = (from: number): number => {
    let i = from;
    while (i <= upper && r.have(i)) i++;
    return i;
  };
  const out: Uint8Array[] = [];
  let start = nextMissing(0);
  while (out.length < r.maxFrames && start <= upper) {
    const capacity = requestBitmapCapacity(r.mtu, start);
    if (capacity < 1) break;
    const bitmap = new Uint8Array(capacity);
    let lastSet = -1;
    for (let bit = 0; bit < capacity * 8 && start + bit <= upper; bit++) {
      if (r.have(start + bit)) continue;
      bitmap[bit >> 3]! |= 0x80 >> (bit & 7);
      lastSet = bit;
    }
    if (lastSet < 0) break;
    out.push(encodeRequest(r.id, r.round, start, bitmap.subarray(0, (lastSet >> 3) + 1)));
    const windowEnd = start + capacity * 8;
    if (r.lastIndex === undefined && windowEnd > r.maxIndex) break;
    start = nextMissing(windowEnd);
  }
  return out;
}

/** Decodes one inbound frame. Throws ERR_MALFORMED on anything that is not a valid frame. */
export function decodeFrame(b: Uint8Array): FragmentFrame {
  if (b.length === 0) throw err('ERR_MALFORMED', 'fragment: empty frame');
  const b0 = b[0]!;
  const id = b0 & 0x1f;
  if ((b0 & 0x80) === 0) {
    const last = (b0 & 0x40) !== 0;
    const { index, next } = readIndex(b, 1);
    let at = next;
    let crc = 0;
    if (last) {
      if (b.length < at + CRC_LENGTH) throw err('ERR_MALFORMED', 'fragment: truncated CRC');
      crc = readU32(b, at);
      at += CRC_LENGTH;
    } else if (b.length === at) {
      throw err('ERR_MALFORMED', 'fragment: empty non-last fragment');
    }
    return { kind: 'data', id, index, last, ackWanted: (b0 & 0x20) !== 0, crc, payload: b.subarray(at) };
  }
  const kind = CONTROL_TYPES[(b0 >> 5) & 3]!;
  switch (kind) {
    case 'ack':
      if (b.length !== 5) throw err('ERR_MALFORMED', 'fragment: ACK must be 5 bytes');
      return { kind, id, crc: readU32(b, 1) };
    case 'refuse':
      if (b.length !== 2) throw err('ERR_MALFORMED', 'fragment: REFUSE must be 2 bytes');
      return { kind, id, reason: b[1]! };
    case 'probe': {
      const { index, next } = readIndex(b, 1);
      if (b.length !== next + CRC_LENGTH) throw err('ERR_MALFORMED', 'fragment: bad PROBE length');
      return { kind, id, lastIndex: index, crc: readU32(b, next) };
    }
    case 'request': {
      if (b.length < 2) throw err('ERR_MALFORMED', 'fragment: truncated REQUEST');
      const { index, next } = readIndex(b, 2);
      const bitmap = b.subarray(next);
      if (bitmap.length === 0 || bitmap.every((x) => x === 0)) throw err('ERR_MALFORMED', 'fragment: REQUEST without missing fragments');
      return { kind, id, round: b[1]!, start: index, bitmap };
    }
  }
}

/**
 * Splits a message of `length` bytes for an inner link of `mtu` bytes. Returns the payload offsets:
 * fragment i carries bytes [offsets[i], offsets[i + 1]); the last fragment also carries the CRC.
 * Every non-last fragment is full. Throws ERR_TOO_LARGE past 32768 fragments.
 */
export function planFragments(length: number, mtu: number): Uint32Array {
  const offsets: number[] = [0];
  let off = 0;
  for (let i = 0; ; i++) {
    if (i > MAX_FRAGMENT_INDEX) throw err('ERR_TOO_LARGE', `fragment: ${length} B needs more than ${MAX_FRAGMENT_INDEX + 1} fragments at mtu ${mtu}`);
    const header = 1 + indexLength(i);
    const remaining = length - off;
    if (remaining <= mtu - header - CRC_LENGTH) {
      offsets.push(length);
      return Uint32Array.from(offsets);
    }
    off += Math.min(mtu - header, remaining);
    offsets.push(off);
  }
}

/** Number of fragments `planFragments(length, mtu)` would produce, without allocating. */
export function fragmentCount(length: number, mtu: number): number {
  const small = mtu - 2;
  const firstSpan = 128 * small;
  if (length <= mtu - 2 - CRC_LENGTH) return 1;
  // Fragments 0..127 carry mtu-2 bytes, later ones mtu-3; the last carries 4 fewer.
  if (length + CRC_LENGTH <= firstSpan) return Math.ceil((length + CRC_LENGTH) / small);
  return 128 + Math.ceil((length + CRC_LENGTH - firstSpan) / (mtu - 3));
}
