/**
 * The Node backend: node:crypto (OpenSSL) for everything it has — 20–30× faster than pure JS for
 * X25519/Ed25519 — and @noble only where node:crypto has no primitive (HChaCha20 for XC20P,
 * Ed25519 point validation). Imported KeyObjects and validation results are cached in bounded
 * LRU maps, because importing a raw key costs as much as using it.
 */
import * as nc from 'node:crypto';
import { hchacha } from '@noble/ciphers/chacha.js';
import { decryptionFailed, err } from '../errors.js';
import { abytes, concatBytes, toHex } from '../util/bytes.js';
import { fromBase64url, toBase64url } from '../util/base64url.js';
import { validatePublicKeyNoble } from './noble.js';
import { ccmOpen, ccmSeal, type CcmPrimitives } from './ccm.js';
import { CURVE_SIZES, SIGNATURE_CURVE, type CryptoBackend, type Curve, type KeyAgreementCurve, type KeyPair, type SignatureAlg } from './types.js';

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.length);

/** A small LRU on Map insertion order. */
class Lru<V> {
  private map = new Map<string, V>();
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  get(k: string): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.map.set(k, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
}

const OPENSSL_CURVE: Partial<Record<Curve, string>> = {
  'P-256': 'prime256v1',
  'P-384': 'secp384r1',
  'P-521': 'secp521r1',
  secp256k1: 'secp256k1',
};

/** Stands in for `x` in OKP private JWKs: Node derives the public key from `d` and ignores it. */
const PLACEHOLDER_X = toBase64url(new Uint8Array(32));

/**
 * An OKP private KeyObject from raw bytes, imported as JWK (~40 µs; PKCS#8 DER takes ~450 µs in
 * OpenSSL 3). Keys are never made with generateKeyPairSync: on Node 20, exporting a key fresh from
 * a key-generation job can deadlock against that job's destructor during GC (seen in gdb:
 * ExportJWKEdKey → GC → ~KeyGenJob → uv_mutex_lock). Random bytes + import avoid the job entirely.
 * The RFC 7748/8032 tests check that the public key derived here is the right one.
 */
function okpPrivateKeyObject(curve: 'Ed25519' | 'X25519', privateKey: Uint8Array): nc.KeyObject {
  return nc.createPrivateKey({ key: { kty: 'OKP', crv: curve, d: toBase64url(privateKey), x: PLACEHOLDER_X }, format: 'jwk' });
}

function okpPublicOf(ko: nc.KeyObject): Uint8Array {
  return fromBase64url(ko.export({ format: 'jwk' }).x!);
}

/**
 * Random bytes from a pool refilled 4 KiB at a time: each `randomBytes` call costs an OpenSSL
 * RAND_bytes round (~5 µs), a sixth of an anoncrypt pack. Bytes are copied out and wiped from the
 * pool, never handed out twice; large requests bypass it.
 */
const POOL_SIZE = 4096;
let pool: Uint8Array = new Uint8Array(0);
let poolOffset = 0;
function randomBytes(n: number): Uint8Array {
  if (n > 256) return u8(nc.randomBytes(n));
  if (poolOffset + n > pool.length) {
    pool = u8(nc.randomBytes(POOL_SIZE));
    poolOffset = 0;
  }
  const out = pool.slice(poolOffset, poolOffset + n);
  pool.fill(0, poolOffset, poolOffset + n);
  poolOffset += n;
  return out;
}

const HASH: Record<SignatureAlg, string | null> = { EdDSA: null, ES256: 'sha256', ES256K: 'sha256', ES384: 'sha384', ES512: 'sha512' };

const privateKeys = new Lru<nc.KeyObject>(1024);
const publicKeys = new Lru<nc.KeyObject>(4096);
const validated = new Lru<Uint8Array>(4096);

function opensslCurve(curve: Curve): string {
  const c = OPENSSL_CURVE[curve];
  if (!c) throw err('ERR_UNSUPPORTED', `curve ${curve} is not a Weierstrass curve`);
  return c;
}

function checkPrivate(curve: Curve, privateKey: Uint8Array): void {
  abytes(privateKey, `${curve} private key`, CURVE_SIZES[curve].privateKey);
}

function ecPublicFromPrivate(curve: Curve, privateKey: Uint8Array): Uint8Array {
  const ecdh = nc.createECDH(opensslCurve(curve));
  try {
    ecdh.setPrivateKey(privateKey);
  } catch (e) {
    throw err('ERR_INVALID_KEY', `invalid ${curve} private key`, { cause: e });
  }
  return u8(ecdh.getPublicKey(null, 'uncompressed'));
}

function privateKeyObject(curve: Curve, privateKey: Uint8Array): nc.KeyObject {
  const id = curve + toHex(privateKey);
  let ko = privateKeys.get(id);
  if (ko) return ko;
  try {
    if (curve === 'Ed25519' || curve === 'X25519') {
      ko = okpPrivateKeyObject(curve, privateKey);
    } else {
      const pub = ecPublicFromPrivate(curve, privateKey);
      const n = CURVE_SIZES[curve].field;
      ko = nc.createPrivateKey({
        key: { kty: 'EC', crv: curve, d: toBase64url(privateKey), x: toBase64url(pub.subarray(1, 1 + n)), y: toBase64url(pub.subarray(1 + n)) },
        format: 'jwk',
      });
    }
  } catch (e) {
    throw err('ERR_INVALID_KEY', `invalid ${curve} private key`, { cause: e });
  }
  privateKeys.set(id, ko);
  return ko;
}

function publicKeyObject(curve: Curve, publicKey: Uint8Array): nc.KeyObject {
  const id = curve + toHex(publicKey);
  let ko = publicKeys.get(id);
  if (ko) return ko;
  try {
    if (curve === 'Ed25519' || curve === 'X25519') {
      // JWK, not DER SPKI: OpenSSL 3 decodes DER an order of magnitude slower (~9 vs ~100 µs).
      ko = nc.createPublicKey({ key: { kty: 'OKP', crv: curve, x: toBase64url(publicKey) }, format: 'jwk' });
    } else {
      const n = CURVE_SIZES[curve].field;
      ko = nc.createPublicKey({
        key: { kty: 'EC', crv: curve, x: toBase64url(publicKey.subarray(1, 1 + n)), y: toBase64url(publicKey.subarray(1 + n)) },
        format: 'jwk',
      });
    }
  } catch (e) {
    throw err('ERR_INVALID_KEY', `invalid ${curve} public key`, { cause: e });
  }
  publicKeys.set(id, ko);
  return ko;
}

export function validatePublicKeyNode(curve: Curve, publicKey: Uint8Array): Uint8Array {
  if (!(publicKey instanceof Uint8Array)) throw err('ERR_INVALID_KEY', `${curve} public key: expected bytes`);
  if (curve === 'X25519') {
    if (publicKey.length !== 32) throw err('ERR_INVALID_KEY', 'invalid X25519 public key');
    return publicKey;
  }
  const id = curve + toHex(publicKey);
  const hit = validated.get(id);
  if (hit) return hit;
  let out: Uint8Array;
  if (curve === 'Ed25519') {
    out = validatePublicKeyNoble(curve, publicKey);
  } else {
    const n = CURVE_SIZES[curve].field;
    const okLength = publicKey.length === 1 + 2 * n || publicKey.length === 1 + n;
    try {
      if (!okLength) throw new Error('length');
      // OpenSSL's EC_POINT_oct2point checks that the point is on the curve.
      out = u8(nc.ECDH.convertKey(publicKey, opensslCurve(curve), undefined, undefined, 'uncompressed') as Buffer);
    } catch (e) {
      throw err('ERR_INVALID_KEY', `invalid ${curve} public key`, { cause: e });
    }
  }
  validated.set(id, out);
  return out;
}

const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);

function u32(b: Uint8Array): Uint32Array {
  const c = new Uint8Array(b);
  return new Uint32Array(c.buffer, 0, c.length / 4);
}

/** XChaCha20-Poly1305 = HChaCha20 subkey + ChaCha20-Poly1305 with nonce 0⁴‖nonce[16:24]. */
function xchachaParams(key: Uint8Array, nonce: Uint8Array): { subkey: Uint8Array; nonce12: Uint8Array } {
  abytes(key, 'XC20P key', 32);
  abytes(nonce, 'XC20P nonce', 24);
  const out = new Uint32Array(8);
  hchacha(SIGMA, u32(key), u32(nonce.subarray(0, 16)), out);
  const subkey = new Uint8Array(out.buffer);
  return { subkey, nonce12: concatBytes(new Uint8Array(4), nonce.subarray(16, 24)) };
}

type AeadName = 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' | 'chacha20-poly1305' | 'aes-128-ccm' | 'aes-256-ccm';

function aeadSeal(name: AeadName, key: Uint8Array, nonce: Uint8Array, pt: Uint8Array, aad: Uint8Array, tagLength = 16): Uint8Array {
  let c;
  try {
    c = nc.createCipheriv(name as nc.CipherGCMTypes, key, nonce, { authTagLength: tagLength });
  } catch (e) {
    throw err('ERR_ARGUMENT', `${name}: bad key or nonce length`, { cause: e });
  }
  c.setAAD(aad, { plaintextLength: pt.length });
  const a = c.update(pt);
  const b = c.final();
  return u8(Buffer.concat([a, b, c.getAuthTag()]));
}

function aeadOpen(name: AeadName, key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array, tagLength = 16): Uint8Array {
  if (sealed.length < tagLength) throw decryptionFailed();
  let d;
  try {
    d = nc.createDecipheriv(name as nc.CipherGCMTypes, key, nonce, { authTagLength: tagLength });
  } catch (e) {
    throw err('ERR_ARGUMENT', `${name}: bad key or nonce length`, { cause: e });
  }
  const ct = sealed.subarray(0, sealed.length - tagLength);
  try {
    d.setAuthTag(sealed.subarray(sealed.length - tagLength));
    d.setAAD(aad, { plaintextLength: ct.length });
    const a = d.update(ct);
    const b = d.final();
    return u8(Buffer.concat([a, b]));
  } catch (e) {
    throw decryptionFailed(e);
  }
}

function aesName(key: Uint8Array, mode: 'gcm' | 'cbc' | 'ccm'): string {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw err('ERR_ARGUMENT', 'AES key must be 16, 24 or 32 bytes');
  return `aes-${key.length * 8}-${mode}`;
}

const KW_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

/**
 * OpenSSL's CCM intermittently refuses an empty plaintext ("tag not set"); the generic CCM over
 * node's CBC and CTR handles that case (and is byte-identical, see the tests).
 */
const nodeCcmPrimitives: CcmPrimitives = {
  cbcNoPad(key, data) {
    const c = nc.createCipheriv(aesName(key, 'cbc'), key, new Uint8Array(16));
    c.setAutoPadding(false);
    return u8(Buffer.concat([c.update(data), c.final()]));
  },
  ctr(key, counter, data) {
    const c = nc.createCipheriv(`aes-${key.length * 8}-ctr`, key, counter);
    return u8(Buffer.concat([c.update(data), c.final()]));
  },
};

export const nodeBackend: CryptoBackend = {
  name: 'node',

  randomBytes: (n) => {
    if (!Number.isSafeInteger(n) || n < 0) throw err('ERR_ARGUMENT', 'randomBytes: expected a non-negative integer');
    return randomBytes(n);
  },
  sha256: (d) => u8(nc.createHash('sha256').update(d).digest()),
  sha512: (d) => u8(nc.createHash('sha512').update(d).digest()),
  hmacSha256: (k, d) => u8(nc.createHmac('sha256', k).update(d).digest()),
  hmacSha512: (k, d) => u8(nc.createHmac('sha512', k).update(d).digest()),
  hkdfSha256: (ikm, salt, info, length) => new Uint8Array(nc.hkdfSync('sha256', ikm, salt, info, length)),

  generateKeyPair(curve: Curve): KeyPair {
    if (curve === 'Ed25519' || curve === 'X25519') {
      const privateKey = randomBytes(32);
      return { curve, privateKey, publicKey: okpPublicOf(okpPrivateKeyObject(curve, privateKey)) };
    }
    const ecdh = nc.createECDH(opensslCurve(curve));
    ecdh.generateKeys();
    const priv = u8(ecdh.getPrivateKey());
    const size = CURVE_SIZES[curve].privateKey;
    const privateKey = priv.length === size ? priv : concatBytes(new Uint8Array(size - priv.length), priv);
    return { curve, privateKey, publicKey: u8(ecdh.getPublicKey(null, 'uncompressed')) };
  },

  publicKeyFromPrivate(curve, privateKey) {
    checkPrivate(curve, privateKey);
    if (curve === 'Ed25519' || curve === 'X25519') {
      return okpPublicOf(privateKeyObject(curve, privateKey));
    }
    return ecPublicFromPrivate(curve, privateKey);
  },

  validatePublicKey: validatePublicKeyNode,

  ecdh(curve: KeyAgreementCurve, privateKey, publicKey) {
    checkPrivate(curve, privateKey);
    const pub = validatePublicKeyNode(curve, publicKey);
    let shared: Uint8Array;
    try {
      if (curve === 'X25519') {
        shared = u8(nc.diffieHellman({ privateKey: privateKeyObject(curve, privateKey), publicKey: publicKeyObject(curve, pub) }));
      } else {
        const ecdh = nc.createECDH(opensslCurve(curve));
        ecdh.setPrivateKey(privateKey);
        shared = u8(ecdh.computeSecret(pub));
      }
    } catch (e) {
      throw err('ERR_INVALID_KEY', `${curve} key agreement failed`, { cause: e });
    }
    if (shared.every((b) => b === 0)) throw err('ERR_INVALID_KEY', `${curve} key agreement produced zero`);
    return shared;
  },

  ecdhEphemeral(curve, peers) {
    const zeroCheck = (s: Uint8Array): Uint8Array => {
      if (s.every((b) => b === 0)) throw err('ERR_INVALID_KEY', `${curve} key agreement produced zero`);
      return s;
    };
    if (curve === 'X25519') {
      const ephemeral = okpPrivateKeyObject('X25519', randomBytes(32));
      const e = { privateKey: ephemeral };
      const publicKey = okpPublicOf(ephemeral);
      const secrets = peers.map((p) => {
        const pub = validatePublicKeyNode(curve, p);
        try {
          return zeroCheck(u8(nc.diffieHellman({ privateKey: e.privateKey, publicKey: publicKeyObject(curve, pub) })));
        } catch (x) {
          throw err('ERR_INVALID_KEY', `${curve} key agreement failed`, { cause: x });
        }
      });
      return { publicKey, secrets };
    }
    const ecdh = nc.createECDH(opensslCurve(curve));
    ecdh.generateKeys();
    const secrets = peers.map((p) => {
      const pub = validatePublicKeyNode(curve, p);
      try {
        return zeroCheck(u8(ecdh.computeSecret(pub)));
      } catch (x) {
        throw err('ERR_INVALID_KEY', `${curve} key agreement failed`, { cause: x });
      }
    });
    return { publicKey: u8(ecdh.getPublicKey(null, 'uncompressed')), secrets };
  },

  sign(alg: SignatureAlg, privateKey, message) {
    const curve = SIGNATURE_CURVE[alg];
    checkPrivate(curve, privateKey);
    const ko = privateKeyObject(curve, privateKey);
    if (alg === 'EdDSA') return u8(nc.sign(null, message, ko));
    const sig = u8(nc.sign(HASH[alg]!, message, { key: ko, dsaEncoding: 'ieee-p1363' }));
    return lowS(curve, sig);
  },

  verify(alg: SignatureAlg, publicKey, message, signature) {
    const curve = SIGNATURE_CURVE[alg];
    const pub = validatePublicKeyNode(curve, publicKey);
    const expected = alg === 'EdDSA' ? 64 : 2 * CURVE_SIZES[curve].field;
    if (signature.length !== expected) return false;
    try {
      const ko = publicKeyObject(curve, pub);
      if (alg === 'EdDSA') return nc.verify(null, message, ko, signature);
      return nc.verify(HASH[alg]!, message, { key: ko, dsaEncoding: 'ieee-p1363' }, signature);
    } catch {
      return false;
    }
  },

  aesKeyWrap(kek, key) {
    const c = nc.createCipheriv(`id-aes${kek.length * 8}-wrap`, kek, KW_IV);
    return u8(Buffer.concat([c.update(key), c.final()]));
  },
  aesKeyUnwrap(kek, wrapped) {
    try {
      const d = nc.createDecipheriv(`id-aes${kek.length * 8}-wrap`, kek, KW_IV);
      return u8(Buffer.concat([d.update(wrapped), d.final()]));
    } catch (e) {
      throw decryptionFailed(e);
    }
  },

  aesCbcEncrypt(key, iv, pt) {
    const c = nc.createCipheriv(aesName(key, 'cbc'), key, iv);
    return u8(Buffer.concat([c.update(pt), c.final()]));
  },
  aesCbcDecrypt(key, iv, ct) {
    try {
      const d = nc.createDecipheriv(aesName(key, 'cbc'), key, iv);
      return u8(Buffer.concat([d.update(ct), d.final()]));
    } catch (e) {
      throw decryptionFailed(e);
    }
  },

  aesGcmSeal: (key, nonce, pt, aad) => aeadSeal(aesName(key, 'gcm') as AeadName, key, nonce, pt, aad),
  aesGcmOpen: (key, nonce, sealed, aad) => aeadOpen(aesName(key, 'gcm') as AeadName, key, nonce, sealed, aad),
  chachaSeal: (key, nonce, pt, aad) => aeadSeal('chacha20-poly1305', abytes(key, 'ChaCha20 key', 32), abytes(nonce, 'ChaCha20 nonce', 12), pt, aad),
  chachaOpen: (key, nonce, sealed, aad) => aeadOpen('chacha20-poly1305', abytes(key, 'ChaCha20 key', 32), abytes(nonce, 'ChaCha20 nonce', 12), sealed, aad),
  xchachaSeal(key, nonce, pt, aad) {
    const p = xchachaParams(key, nonce);
    return aeadSeal('chacha20-poly1305', p.subkey, p.nonce12, pt, aad);
  },
  xchachaOpen(key, nonce, sealed, aad) {
    const p = xchachaParams(key, nonce);
    return aeadOpen('chacha20-poly1305', p.subkey, p.nonce12, sealed, aad);
  },
  aesCcmSeal(key, nonce, pt, aad, tagLength) {
    abytes(nonce, 'AES-CCM nonce', 13);
    if (tagLength !== 8 && tagLength !== 16) throw err('ERR_ARGUMENT', 'AES-CCM: tag length must be 8 or 16');
    if (pt.length === 0) return ccmSeal(nodeCcmPrimitives, key, nonce, pt, aad, tagLength);
    return aeadSeal(aesName(key, 'ccm') as AeadName, key, nonce, pt, aad, tagLength);
  },
  aesCcmOpen(key, nonce, sealed, aad, tagLength) {
    abytes(nonce, 'AES-CCM nonce', 13);
    if (tagLength !== 8 && tagLength !== 16) throw err('ERR_ARGUMENT', 'AES-CCM: tag length must be 8 or 16');
    if (sealed.length === tagLength) return ccmOpen(nodeCcmPrimitives, key, nonce, sealed, aad, tagLength);
    return aeadOpen(aesName(key, 'ccm') as AeadName, key, nonce, sealed, aad, tagLength);
  },
};

const ORDER: Partial<Record<Curve, bigint>> = {
  'P-256': 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  'P-384': 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  'P-521': 0x01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
  secp256k1: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n,
};

/** Normalizes an ECDSA r‖s signature to s <= n/2 (OpenSSL does not). */
function lowS(curve: Curve, sig: Uint8Array): Uint8Array {
  const n = ORDER[curve]!;
  const half = sig.length / 2;
  const s = BigInt('0x' + toHex(sig.subarray(half)));
  if (s <= n >> 1n) return sig;
  const ns = (n - s).toString(16).padStart(half * 2, '0');
  const out = new Uint8Array(sig);
  out.set(Buffer.from(ns, 'hex'), half);
  return out;
}
