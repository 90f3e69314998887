/**
 * Pairwise frames (docs/compact.md §7): an OSCORE-like security context (RFC 8613) derived from
 * static-static X25519 between two DIDs, so no ephemeral key goes on the air. Layout:
 *   0xE9 | context hint (1 byte) | sequence number (ULEB128, < 2^40) | AES-CCM-16-64-128 ct‖tag(8)
 * The sequence number is the OSCORE Partial IV: it makes the nonce and drives replay protection.
 */
import { err } from '../../errors.js';
import { concatBytes, equalBytes, utf8 } from '../../util/bytes.js';
import { decodeVarint, encodeVarint } from '../../util/varint.js';
import { encodeCbor } from '../../cbor/encode.js';
import { deriveOscoreKeys, MAX_PIV, oscoreNonce } from '../../crypto/oscore.js';
import type { CryptoBackend } from '../../crypto/types.js';
import { MARKER } from './frame.js';

export const PAIRWISE_LABEL = 'didcomm-compact/1 pairwise';
const MASTER_SALT = utf8('didcomm-compact/1');
const TAG_LENGTH = 8;

/** Everything one side needs to talk to one peer. Espruino devices get these provisioned. */
export interface PairwiseContext {
  selfDid: string;
  peerDid: string;
  /** 8 bytes, the same on both sides. */
  idContext: Uint8Array;
  senderId: Uint8Array;
  recipientId: Uint8Array;
  senderKey: Uint8Array;
  recipientKey: Uint8Array;
  commonIv: Uint8Array;
}

export function pairwiseHint(c: PairwiseContext): number {
  return c.idContext[0]!;
}

/** A stable name for a context's persistent state (sequence numbers, replay window). */
export function contextId(c: PairwiseContext): string {
  return `${Array.from(c.idContext, (b) => b.toString(16).padStart(2, '0')).join('')}.${c.senderId[0]}`;
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * Derives the context between our X25519 key and the peer's. Both sides get the same idContext
 * and opposite sender/recipient ids (the lower public key is sender id 0x00).
 */
export function derivePairwiseContext(
  crypto: CryptoBackend,
  self: { did: string; privateKey: Uint8Array; publicKey: Uint8Array },
  peer: { did: string; publicKey: Uint8Array },
): PairwiseContext {
  const order = compare(self.publicKey, peer.publicKey);
  if (order === 0) throw err('ERR_ARGUMENT', 'pairwise: both sides have the same key');
  const [low, high] = order < 0 ? [self.publicKey, peer.publicKey] : [peer.publicKey, self.publicKey];
  const z = crypto.ecdh('X25519', self.privateKey, peer.publicKey);
  const idContext = crypto.sha256(concatBytes(utf8(PAIRWISE_LABEL), low, high)).slice(0, 8);
  const senderId = Uint8Array.of(order < 0 ? 0 : 1);
  const recipientId = Uint8Array.of(order < 0 ? 1 : 0);
  const keys = deriveOscoreKeys(crypto, { masterSecret: z, masterSalt: MASTER_SALT, senderId, recipientId, idContext });
  return { selfDid: self.did, peerDid: peer.did, idContext, senderId, recipientId, ...keys };
}

function aad(idContext: Uint8Array, senderId: Uint8Array, seqBytes: Uint8Array): Uint8Array {
  const external = concatBytes(Uint8Array.of(MARKER.PAIRWISE), idContext, senderId, seqBytes);
  return encodeCbor(['Encrypt0', new Uint8Array(0), external]);
}

export function sealPairwise(crypto: CryptoBackend, c: PairwiseContext, seq: number, inner: Uint8Array): Uint8Array {
  if (!Number.isSafeInteger(seq) || seq < 0 || seq > MAX_PIV) throw err('ERR_ARGUMENT', 'pairwise: sequence number out of range');
  const seqBytes = encodeVarint(seq);
  const sealed = crypto.aesCcmSeal(c.senderKey, oscoreNonce(c.commonIv, c.senderId, seq), inner, aad(c.idContext, c.senderId, seqBytes), TAG_LENGTH);
  return concatBytes(Uint8Array.of(MARKER.PAIRWISE, pairwiseHint(c)), seqBytes, sealed);
}

export interface PairwiseHeader {
  hint: number;
  seq: number;
  seqBytes: Uint8Array;
  sealed: Uint8Array;
}

export function parsePairwise(frame: Uint8Array): PairwiseHeader {
  if (frame[0] !== MARKER.PAIRWISE || frame.length < 3 + TAG_LENGTH) throw err('ERR_MALFORMED', 'pairwise frame: too short');
  const { value, length } = decodeVarint(frame, 2, 6);
  if (value > MAX_PIV) throw err('ERR_MALFORMED', 'pairwise frame: sequence number out of range');
  const sealed = frame.subarray(2 + length);
  if (sealed.length < TAG_LENGTH) throw err('ERR_MALFORMED', 'pairwise frame: truncated');
  return { hint: frame[1]!, seq: value, seqBytes: frame.subarray(2, 2 + length), sealed };
}

/** Opens a parsed frame with one candidate context (ERR_DECRYPTION_FAILED if it is not the one). */
export function openPairwise(crypto: CryptoBackend, c: PairwiseContext, h: PairwiseHeader): Uint8Array {
  if (h.hint !== pairwiseHint(c)) throw err('ERR_DECRYPTION_FAILED', 'decryption failed');
  if (!equalBytes(encodeVarint(h.seq), h.seqBytes)) throw err('ERR_MALFORMED', 'pairwise frame: non-canonical sequence number');
  return crypto.aesCcmOpen(c.recipientKey, oscoreNonce(c.commonIv, c.recipientId, h.seq), h.sealed, aad(c.idContext, c.recipientId, h.seqBytes), TAG_LENGTH);
}
