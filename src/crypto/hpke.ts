/**
 * HPKE (RFC 9180) with the one suite DIDComm Compact uses: DHKEM(X25519, HKDF-SHA256) (0x0020),
 * HKDF-SHA256 (0x0001), ChaCha20-Poly1305 (0x0003); modes base (0x00) and auth (0x02); single-shot
 * seal/open (sequence number 0). AES-128-GCM (0x0001) is also accepted so the layer can be checked
 * against every RFC 9180 Appendix A vector for this KEM.
 */
import { decryptionFailed, err } from '../errors.js';
import { abytes, concatBytes, utf8 } from '../util/bytes.js';
import type { CryptoBackend } from './types.js';
import { staticEcdh } from './static-dh.js';

export const HPKE_MODE_BASE = 0x00;
export const HPKE_MODE_AUTH = 0x02;
export const KEM_X25519_HKDF_SHA256 = 0x0020;
export const KDF_HKDF_SHA256 = 0x0001;
export const AEAD_AES128GCM = 0x0001;
export const AEAD_CHACHA20POLY1305 = 0x0003;

export type HpkeAead = typeof AEAD_AES128GCM | typeof AEAD_CHACHA20POLY1305;

const VERSION = utf8('HPKE-v1');
const i2osp2 = (n: number): Uint8Array => Uint8Array.of((n >> 8) & 0xff, n & 0xff);
const KEM_SUITE = concatBytes(utf8('KEM'), i2osp2(KEM_X25519_HKDF_SHA256));

function hpkeSuite(aead: HpkeAead): Uint8Array {
  return concatBytes(utf8('HPKE'), i2osp2(KEM_X25519_HKDF_SHA256), i2osp2(KDF_HKDF_SHA256), i2osp2(aead));
}

function extract(c: CryptoBackend, salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  return c.hmacSha256(salt.length ? salt : new Uint8Array(32), ikm);
}

function expand(c: CryptoBackend, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let t: Uint8Array = new Uint8Array(0);
  for (let i = 1, o = 0; o < length; i++) {
    t = c.hmacSha256(prk, concatBytes(t, info, Uint8Array.of(i)));
    out.set(t.subarray(0, Math.min(32, length - o)), o);
    o += 32;
  }
  return out;
}

function labeledExtract(c: CryptoBackend, suite: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array): Uint8Array {
  return extract(c, salt, concatBytes(VERSION, suite, utf8(label), ikm));
}

function labeledExpand(c: CryptoBackend, suite: Uint8Array, prk: Uint8Array, label: string, info: Uint8Array, length: number): Uint8Array {
  return expand(c, prk, concatBytes(i2osp2(length), VERSION, suite, utf8(label), info), length);
}

function extractAndExpand(c: CryptoBackend, dh: Uint8Array, kemContext: Uint8Array): Uint8Array {
  const prk = labeledExtract(c, KEM_SUITE, new Uint8Array(0), 'eae_prk', dh);
  return labeledExpand(c, KEM_SUITE, prk, 'shared_secret', kemContext, 32);
}

/** RFC 9180 §7.1.3 DeriveKeyPair for X25519 (used by the test vectors). */
export function deriveX25519KeyPair(c: CryptoBackend, ikm: Uint8Array): { privateKey: Uint8Array; publicKey: Uint8Array } {
  const prk = labeledExtract(c, KEM_SUITE, new Uint8Array(0), 'dkp_prk', ikm);
  const privateKey = labeledExpand(c, KEM_SUITE, prk, 'sk', new Uint8Array(0), 32);
  return { privateKey, publicKey: c.publicKeyFromPrivate('X25519', privateKey) };
}

export interface HpkeContext {
  key: Uint8Array;
  baseNonce: Uint8Array;
  exporterSecret: Uint8Array;
}

function keySchedule(c: CryptoBackend, aead: HpkeAead, mode: number, sharedSecret: Uint8Array, info: Uint8Array): HpkeContext {
  const suite = hpkeSuite(aead);
  const empty = new Uint8Array(0);
  const pskIdHash = labeledExtract(c, suite, empty, 'psk_id_hash', empty);
  const infoHash = labeledExtract(c, suite, empty, 'info_hash', info);
  const ksc = concatBytes(Uint8Array.of(mode), pskIdHash, infoHash);
  const secret = labeledExtract(c, suite, sharedSecret, 'secret', empty);
  return {
    key: labeledExpand(c, suite, secret, 'key', ksc, aead === AEAD_AES128GCM ? 16 : 32),
    baseNonce: labeledExpand(c, suite, secret, 'base_nonce', ksc, 12),
    exporterSecret: labeledExpand(c, suite, secret, 'exp', ksc, 32),
  };
}

function aeadSeal(c: CryptoBackend, aead: HpkeAead, k: HpkeContext, aad: Uint8Array, pt: Uint8Array): Uint8Array {
  return aead === AEAD_AES128GCM ? c.aesGcmSeal(k.key, k.baseNonce, pt, aad) : c.chachaSeal(k.key, k.baseNonce, pt, aad);
}

function aeadOpen(c: CryptoBackend, aead: HpkeAead, k: HpkeContext, aad: Uint8Array, ct: Uint8Array): Uint8Array {
  return aead === AEAD_AES128GCM ? c.aesGcmOpen(k.key, k.baseNonce, ct, aad) : c.chachaOpen(k.key, k.baseNonce, ct, aad);
}

export interface HpkeSealOptions {
  aead?: HpkeAead;
  info: Uint8Array;
  aad: Uint8Array;
  /** Auth mode: the sender's static X25519 private key. */
  senderPrivateKey?: Uint8Array;
  /** Auth mode: the sender's public key, if known (saves deriving it). */
  senderPublicKey?: Uint8Array;
  /** For test vectors only: a fixed ephemeral private key instead of a fresh one. */
  ephemeralPrivateKey?: Uint8Array;
}

/** Single-shot SealBase / SealAuth. Returns the encapsulated key (32 bytes) and ciphertext‖tag. */
export function hpkeSeal(c: CryptoBackend, recipientPublicKey: Uint8Array, plaintext: Uint8Array, o: HpkeSealOptions): { enc: Uint8Array; ciphertext: Uint8Array } {
  abytes(recipientPublicKey, 'HPKE recipient public key', 32);
  const aead = o.aead ?? AEAD_CHACHA20POLY1305;
  let enc: Uint8Array;
  let dhE: Uint8Array;
  if (o.ephemeralPrivateKey) {
    enc = c.publicKeyFromPrivate('X25519', o.ephemeralPrivateKey);
    dhE = c.ecdh('X25519', o.ephemeralPrivateKey, recipientPublicKey);
  } else {
    const e = c.ecdhEphemeral('X25519', [recipientPublicKey]);
    enc = e.publicKey;
    dhE = e.secrets[0]!;
  }
  let shared: Uint8Array;
  let mode = HPKE_MODE_BASE;
  if (o.senderPrivateKey) {
    mode = HPKE_MODE_AUTH;
    const pkS = o.senderPublicKey ?? c.publicKeyFromPrivate('X25519', o.senderPrivateKey);
    const dhS = staticEcdh(c, 'X25519', o.senderPrivateKey, recipientPublicKey);
    shared = extractAndExpand(c, concatBytes(dhE, dhS), concatBytes(enc, recipientPublicKey, pkS));
  } else {
    shared = extractAndExpand(c, dhE, concatBytes(enc, recipientPublicKey));
  }
  const k = keySchedule(c, aead, mode, shared, o.info);
  return { enc, ciphertext: aeadSeal(c, aead, k, o.aad, plaintext) };
}

export interface HpkeOpenOptions {
  aead?: HpkeAead;
  info: Uint8Array;
  aad: Uint8Array;
  /** Auth mode: the sender's static X25519 public key. */
  senderPublicKey?: Uint8Array;
  /** Our public key, if known (saves deriving it from the private key). */
  recipientPublicKey?: Uint8Array;
}

/** Single-shot OpenBase / OpenAuth. Any failure is the opaque ERR_DECRYPTION_FAILED. */
export function hpkeOpen(c: CryptoBackend, recipientPrivateKey: Uint8Array, enc: Uint8Array, ciphertext: Uint8Array, o: HpkeOpenOptions): Uint8Array {
  if (enc.length !== 32) throw err('ERR_MALFORMED', 'HPKE: encapsulated key must be 32 bytes');
  const aead = o.aead ?? AEAD_CHACHA20POLY1305;
  let k: HpkeContext;
  try {
    const pkR = o.recipientPublicKey ?? c.publicKeyFromPrivate('X25519', recipientPrivateKey);
    const dhE = c.ecdh('X25519', recipientPrivateKey, enc);
    let shared: Uint8Array;
    let mode = HPKE_MODE_BASE;
    if (o.senderPublicKey) {
      mode = HPKE_MODE_AUTH;
      const dhS = staticEcdh(c, 'X25519', recipientPrivateKey, o.senderPublicKey);
      shared = extractAndExpand(c, concatBytes(dhE, dhS), concatBytes(enc, pkR, o.senderPublicKey));
    } else {
      shared = extractAndExpand(c, dhE, concatBytes(enc, pkR));
    }
    k = keySchedule(c, aead, mode, shared, o.info);
  } catch (e) {
    throw decryptionFailed(e);
  }
  return aeadOpen(c, aead, k, o.aad, ciphertext);
}

/** The key schedule alone, for checking intermediate values against RFC 9180 vectors. */
export function hpkeKeyScheduleForTest(c: CryptoBackend, aead: HpkeAead, mode: number, sharedSecret: Uint8Array, info: Uint8Array): HpkeContext {
  return keySchedule(c, aead, mode, sharedSecret, info);
}
