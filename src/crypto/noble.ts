/**
 * The portable crypto backend: @noble/curves, @noble/ciphers, @noble/hashes. Runs wherever
 * BigInt and `crypto.getRandomValues` exist (Node, browsers, Deno, Bun — not stock Espruino).
 * Implements `CryptoBackend` (see types.ts for the conventions); passes the same tests as `node`.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { aeskw, cbc, ctr, gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305, xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { decryptionFailed, err } from '../errors.js';
import { abytes } from '../util/bytes.js';
import { ccmOpen, ccmSeal, type CcmPrimitives } from './ccm.js';
import { CURVE_SIZES, SIGNATURE_CURVE, type CryptoBackend, type Curve, type KeyAgreementCurve, type KeyPair, type SignatureAlg } from './types.js';

type Weierstrass = typeof p256;
const WEIERSTRASS: Partial<Record<Curve, Weierstrass>> = {
  'P-256': p256,
  'P-384': p384,
  'P-521': p521,
  secp256k1: secp256k1 as unknown as Weierstrass,
};

function weierstrass(curve: Curve): Weierstrass {
  const c = WEIERSTRASS[curve];
  if (!c) throw err('ERR_UNSUPPORTED', `curve ${curve} is not a Weierstrass curve`);
  return c;
}

function checkPrivate(curve: Curve, privateKey: Uint8Array): void {
  abytes(privateKey, `${curve} private key`, CURVE_SIZES[curve].privateKey);
}

const ccmPrimitives: CcmPrimitives = {
  cbcNoPad: (key, data) => cbc(key, new Uint8Array(16), { disablePadding: true }).encrypt(data),
  ctr: (key, counter, data) => ctr(key, counter).encrypt(data),
};

function open(fn: () => Uint8Array): Uint8Array {
  try {
    return fn();
  } catch (e) {
    throw decryptionFailed(e);
  }
}

export function validatePublicKeyNoble(curve: Curve, publicKey: Uint8Array): Uint8Array {
  if (!(publicKey instanceof Uint8Array)) throw err('ERR_INVALID_KEY', `${curve} public key: expected bytes`);
  try {
    if (curve === 'X25519') {
      if (publicKey.length !== 32) throw new Error('length');
      return publicKey;
    }
    if (curve === 'Ed25519') {
      if (publicKey.length !== 32) throw new Error('length');
      const point = ed25519.Point.fromBytes(publicKey, false);
      point.assertValidity();
      if (point.isSmallOrder()) throw new Error('small order');
      return publicKey;
    }
    const c = weierstrass(curve);
    const point = c.Point.fromBytes(publicKey);
    point.assertValidity();
    if (point.equals(c.Point.ZERO)) throw new Error('identity');
    return point.toBytes(false);
  } catch (e) {
    throw err('ERR_INVALID_KEY', `invalid ${curve} public key`, { cause: e });
  }
}

export const nobleBackend: CryptoBackend = {
  name: 'noble',

  randomBytes: (n) => randomBytes(n),
  sha256: (d) => sha256(d),
  sha512: (d) => sha512(d),
  hmacSha256: (k, d) => hmac(sha256, k, d),
  hmacSha512: (k, d) => hmac(sha512, k, d),
  hkdfSha256: (ikm, salt, info, length) => hkdf(sha256, ikm, salt, info, length),

  generateKeyPair(curve: Curve): KeyPair {
    let privateKey: Uint8Array;
    if (curve === 'Ed25519') privateKey = ed25519.utils.randomSecretKey();
    else if (curve === 'X25519') privateKey = x25519.utils.randomSecretKey();
    else privateKey = weierstrass(curve).utils.randomSecretKey();
    return { curve, privateKey, publicKey: this.publicKeyFromPrivate(curve, privateKey) };
  },

  publicKeyFromPrivate(curve, privateKey) {
    checkPrivate(curve, privateKey);
    try {
      if (curve === 'Ed25519') return ed25519.getPublicKey(privateKey);
      if (curve === 'X25519') return x25519.getPublicKey(privateKey);
      return weierstrass(curve).getPublicKey(privateKey, false);
    } catch (e) {
      throw err('ERR_INVALID_KEY', `invalid ${curve} private key`, { cause: e });
    }
  },

  validatePublicKey: validatePublicKeyNoble,

  ecdh(curve: KeyAgreementCurve, privateKey, publicKey) {
    checkPrivate(curve, privateKey);
    const pub = validatePublicKeyNoble(curve, publicKey);
    let shared: Uint8Array;
    try {
      if (curve === 'X25519') shared = x25519.getSharedSecret(privateKey, pub);
      else shared = weierstrass(curve).getSharedSecret(privateKey, pub, true).subarray(1);
    } catch (e) {
      throw err('ERR_INVALID_KEY', `${curve} key agreement failed`, { cause: e });
    }
    if (shared.every((b) => b === 0)) throw err('ERR_INVALID_KEY', `${curve} key agreement produced zero`);
    return shared;
  },

  ecdhEphemeral(curve, peers) {
    const e = this.generateKeyPair(curve);
    return { publicKey: e.publicKey, secrets: peers.map((p) => this.ecdh(curve, e.privateKey, p)) };
  },

  sign(alg: SignatureAlg, privateKey, message) {
    const curve = SIGNATURE_CURVE[alg];
    checkPrivate(curve, privateKey);
    if (alg === 'EdDSA') return ed25519.sign(message, privateKey);
    return weierstrass(curve).sign(message, privateKey, { prehash: true, lowS: true });
  },

  verify(alg: SignatureAlg, publicKey, message, signature) {
    const curve = SIGNATURE_CURVE[alg];
    const pub = validatePublicKeyNoble(curve, publicKey);
    try {
      if (alg === 'EdDSA') {
        if (signature.length !== 64) return false;
        return ed25519.verify(signature, message, pub, { zip215: false });
      }
      if (signature.length !== 2 * CURVE_SIZES[curve].field) return false;
      return weierstrass(curve).verify(signature, message, pub, { prehash: true, lowS: false });
    } catch {
      return false;
    }
  },

  aesKeyWrap: (kek, key) => aeskw(kek).encrypt(key),
  aesKeyUnwrap: (kek, wrapped) => open(() => aeskw(kek).decrypt(wrapped)),

  aesCbcEncrypt: (key, iv, pt) => cbc(key, iv).encrypt(pt),
  aesCbcDecrypt: (key, iv, ct) => open(() => cbc(key, iv).decrypt(ct)),

  aesGcmSeal: (key, nonce, pt, aad) => gcm(key, nonce, aad).encrypt(pt),
  aesGcmOpen: (key, nonce, sealed, aad) => open(() => gcm(key, nonce, aad).decrypt(sealed)),
  chachaSeal: (key, nonce, pt, aad) => chacha20poly1305(key, nonce, aad).encrypt(pt),
  chachaOpen: (key, nonce, sealed, aad) => open(() => chacha20poly1305(key, nonce, aad).decrypt(sealed)),
  xchachaSeal: (key, nonce, pt, aad) => xchacha20poly1305(key, nonce, aad).encrypt(pt),
  xchachaOpen: (key, nonce, sealed, aad) => open(() => xchacha20poly1305(key, nonce, aad).decrypt(sealed)),
  aesCcmSeal: (key, nonce, pt, aad, tagLength) => ccmSeal(ccmPrimitives, key, nonce, pt, aad, tagLength),
  aesCcmOpen: (key, nonce, sealed, aad, tagLength) => ccmOpen(ccmPrimitives, key, nonce, sealed, aad, tagLength),
};
