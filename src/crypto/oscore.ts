/**
 * OSCORE security-context derivation and nonce construction (RFC 8613 §3.2.1 and §5.2), used by
 * DIDComm Compact pairwise frames. Only AES-CCM-16-64-128 (COSE alg 10: 16-byte key, 13-byte
 * nonce, 8-byte tag) is used. Checked against the RFC 8613 Appendix C vectors.
 */
import { err } from '../errors.js';
import { encodeCbor } from '../cbor/encode.js';
import type { CryptoBackend } from './types.js';

export const AES_CCM_16_64_128 = 10;
export const NONCE_LENGTH = 13;
export const KEY_LENGTH = 16;
export const MAX_PIV = 2 ** 40 - 1;

export interface OscoreKeys {
  senderKey: Uint8Array;
  recipientKey: Uint8Array;
  commonIv: Uint8Array;
}

export interface OscoreInput {
  masterSecret: Uint8Array;
  /** Empty when absent (RFC 8613 §3.1 default). */
  masterSalt: Uint8Array;
  senderId: Uint8Array;
  recipientId: Uint8Array;
  /** null when absent (CBOR null in `info`). */
  idContext: Uint8Array | null;
}

/** RFC 8613 §3.2.1: info = [id, id_context, alg_aead, type, L]. */
export function oscoreInfo(id: Uint8Array, idContext: Uint8Array | null, type: 'Key' | 'IV', length: number): Uint8Array {
  return encodeCbor([id, idContext, AES_CCM_16_64_128, type, length]);
}

export function deriveOscoreKeys(c: CryptoBackend, i: OscoreInput): OscoreKeys {
  if (i.senderId.length > NONCE_LENGTH - 6 || i.recipientId.length > NONCE_LENGTH - 6) throw err('ERR_ARGUMENT', 'OSCORE: sender/recipient id longer than 7 bytes');
  const salt = i.masterSalt;
  return {
    senderKey: c.hkdfSha256(i.masterSecret, salt, oscoreInfo(i.senderId, i.idContext, 'Key', KEY_LENGTH), KEY_LENGTH),
    recipientKey: c.hkdfSha256(i.masterSecret, salt, oscoreInfo(i.recipientId, i.idContext, 'Key', KEY_LENGTH), KEY_LENGTH),
    commonIv: c.hkdfSha256(i.masterSecret, salt, oscoreInfo(new Uint8Array(0), i.idContext, 'IV', NONCE_LENGTH), NONCE_LENGTH),
  };
}

/** RFC 8613 §5.2: (size of ID ‖ ID left-padded to 7 ‖ PIV left-padded to 5) XOR Common IV. */
export function oscoreNonce(commonIv: Uint8Array, id: Uint8Array, piv: number): Uint8Array {
  if (!Number.isSafeInteger(piv) || piv < 0 || piv > MAX_PIV) throw err('ERR_ARGUMENT', 'OSCORE: partial IV out of range');
  const n = new Uint8Array(NONCE_LENGTH);
  n[0] = id.length;
  n.set(id, 1 + (NONCE_LENGTH - 6 - id.length));
  let v = piv;
  for (let i = NONCE_LENGTH - 1; i >= NONCE_LENGTH - 5; i--) {
    n[i] = v % 256;
    v = Math.floor(v / 256);
  }
  for (let i = 0; i < NONCE_LENGTH; i++) n[i]! ^= commonIv[i]!;
  return n;
}
