/**
 * Cached static-static ECDH. Between two long-lived keys the shared secret never changes, and both
 * ECDH-1PU (JOSE authcrypt) and HPKE auth mode (compact authcrypt) need it on every message, so it
 * is computed once per (backend, our private key, their public key) and kept in a bounded LRU.
 * The cache key is a hash, not the key material itself.
 */
import { concatBytes, toHex, utf8 } from '../util/bytes.js';
import type { CryptoBackend, KeyAgreementCurve } from './types.js';

const cache = new Map<string, Uint8Array>();
const MAX = 4096;

export function staticEcdh(crypto: CryptoBackend, curve: KeyAgreementCurve, privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  const id = toHex(crypto.sha256(concatBytes(utf8(`${crypto.name}:${curve}:`), privateKey, publicKey)));
  const hit = cache.get(id);
  if (hit) {
    cache.delete(id);
    cache.set(id, hit);
    return hit;
  }
  const z = crypto.ecdh(curve, privateKey, publicKey);
  if (cache.size >= MAX) cache.delete(cache.keys().next().value as string);
  cache.set(id, z);
  return z;
}
