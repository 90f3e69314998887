/**
 * Message ids (DIDComm v2.1 §Message IDs: unique per sender, unreserved URI characters). Default:
 * 8 random bytes as 16 lowercase hex characters — compact encodes them as 8 raw bytes. Devices
 * with a persistent counter may use shorter counter-based ids (see the Espruino endpoint).
 */
import { toHex } from '../util/bytes.js';
import type { CryptoBackend } from '../crypto/types.js';

export function newMessageId(crypto: CryptoBackend, bytes = 8): string {
  return toHex(crypto.randomBytes(bytes));
}
