/**
 * The one crypto interface. Two backends implement it and pass the same tests:
 * `noble` (@noble/curves, @noble/ciphers, @noble/hashes — runs anywhere with BigInt) and
 * `node` (node:crypto — 20–30× faster for X25519/Ed25519 on Node, the default there).
 *
 * Everything is synchronous and `Uint8Array` based. Public keys: 32 bytes for Ed25519/X25519,
 * uncompressed SEC1 (0x04‖x‖y) for the NIST curves and secp256k1 (compressed input is accepted by
 * `validatePublicKey` and expanded). Private keys: raw scalars (32/32/32/48/66/32 bytes).
 * Invalid points are rejected with ERR_INVALID_KEY; failed AEAD opens with ERR_DECRYPTION_FAILED.
 */

export type Curve = 'Ed25519' | 'X25519' | 'P-256' | 'P-384' | 'P-521' | 'secp256k1';

/** Curves usable for key agreement (ECDH). */
export type KeyAgreementCurve = 'X25519' | 'P-256' | 'P-384' | 'P-521';

/** JWS signature algorithms (RFC 7518 / RFC 8037 / RFC 8812). ES384 is accepted on verify. */
export type SignatureAlg = 'EdDSA' | 'ES256' | 'ES256K' | 'ES384' | 'ES512';

export interface KeyPair {
  curve: Curve;
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

export interface CryptoBackend {
  readonly name: 'noble' | 'node';

  randomBytes(length: number): Uint8Array;
  sha256(data: Uint8Array): Uint8Array;
  sha512(data: Uint8Array): Uint8Array;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  hmacSha512(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** RFC 5869 HKDF-SHA256 (extract then expand). */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;

  generateKeyPair(curve: Curve): KeyPair;
  /** Derives the public key of a private scalar (the curve's canonical public encoding). */
  publicKeyFromPrivate(curve: Curve, privateKey: Uint8Array): Uint8Array;
  /**
   * Checks that `publicKey` is a valid point of `curve` and returns its canonical encoding
   * (uncompressed for EC curves). Rejects the identity, off-curve points, bad lengths, and for
   * X25519/Ed25519 small-order points. Throws ERR_INVALID_KEY.
   */
  validatePublicKey(curve: Curve, publicKey: Uint8Array): Uint8Array;
  /**
   * ECDH shared secret (X25519: 32 bytes; NIST: the x-coordinate, field-size bytes).
   * Validates the peer key; an all-zero X25519 result is ERR_INVALID_KEY.
   */
  ecdh(curve: KeyAgreementCurve, privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;

  /**
   * Generates an ephemeral key pair on `curve` and returns its public key with the shared secret
   * against each of `peers` (validated). The ephemeral private key never leaves the backend —
   * which also lets node:crypto skip re-importing it.
   */
  ecdhEphemeral(curve: KeyAgreementCurve, peers: Uint8Array[]): { publicKey: Uint8Array; secrets: Uint8Array[] };

  /** Signs `message`; ECDSA signatures are raw r‖s (IEEE P1363), low-S normalized. */
  sign(alg: SignatureAlg, privateKey: Uint8Array, message: Uint8Array): Uint8Array;
  /** Verifies; returns false for a bad signature, throws ERR_INVALID_KEY for a bad public key. */
  verify(alg: SignatureAlg, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;

  /** RFC 3394 AES key wrap (key size from `kek`: 16/24/32 bytes). */
  aesKeyWrap(kek: Uint8Array, key: Uint8Array): Uint8Array;
  /** RFC 3394 unwrap; integrity failure is ERR_DECRYPTION_FAILED. */
  aesKeyUnwrap(kek: Uint8Array, wrapped: Uint8Array): Uint8Array;

  /** AES-CBC with PKCS#7 padding. */
  aesCbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Uint8Array;
  aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array;

  /** AEADs return ciphertext‖tag and take ciphertext‖tag. */
  aesGcmSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  aesGcmOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array;
  /** RFC 8439 ChaCha20-Poly1305, 12-byte nonce. */
  chachaSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  chachaOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array;
  /** XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha), 24-byte nonce. */
  xchachaSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  xchachaOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array;
  /** AES-CCM (RFC 3610) with a 13-byte nonce and `tagLength` 8 or 16 (COSE AES-CCM-16-64/128). */
  aesCcmSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, tagLength: number): Uint8Array;
  aesCcmOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array, tagLength: number): Uint8Array;
}

/** Private-key and public-key lengths per curve. */
export const CURVE_SIZES: Readonly<Record<Curve, { privateKey: number; publicKey: number; field: number }>> = {
  Ed25519: { privateKey: 32, publicKey: 32, field: 32 },
  X25519: { privateKey: 32, publicKey: 32, field: 32 },
  'P-256': { privateKey: 32, publicKey: 65, field: 32 },
  'P-384': { privateKey: 48, publicKey: 97, field: 48 },
  'P-521': { privateKey: 66, publicKey: 133, field: 66 },
  secp256k1: { privateKey: 32, publicKey: 65, field: 32 },
};

/** The curve each signature algorithm signs with. */
export const SIGNATURE_CURVE: Readonly<Record<SignatureAlg, Curve>> = {
  EdDSA: 'Ed25519',
  ES256: 'P-256',
  ES256K: 'secp256k1',
  ES384: 'P-384',
  ES512: 'P-521',
};

export function isKeyAgreementCurve(c: string): c is KeyAgreementCurve {
  return c === 'X25519' || c === 'P-256' || c === 'P-384' || c === 'P-521';
}
