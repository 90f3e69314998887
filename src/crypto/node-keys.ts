/**
 * Key objects and randomness for the Node backend (node.ts): raw keys imported into node:crypto
 * KeyObjects (as JWK: OpenSSL 3 decodes DER ~10× slower) and cached in bounded LRU maps, because
 * importing a raw key costs as much as using it; public-key validation (points on the curve);
 * random bytes from a pool.
 */
import * as nc from 'node:crypto';
import { err } from '../errors.js';
import { abytes, toHex } from '../util/bytes.js';
import { fromBase64url, toBase64url } from '../util/base64url.js';
import { validatePublicKeyNoble } from './noble.js';
import { CURVE_SIZES, type Curve } from './types.js';

export const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.length);

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
export function okpPrivateKeyObject(curve: 'Ed25519' | 'X25519', privateKey: Uint8Array): nc.KeyObject {
  return nc.createPrivateKey({ key: { kty: 'OKP', crv: curve, d: toBase64url(privateKey), x: PLACEHOLDER_X }, format: 'jwk' });
}

export function okpPublicOf(ko: nc.KeyObject): Uint8Array {
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
export function randomBytes(n: number): Uint8Array {
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


const privateKeys = new Lru<nc.KeyObject>(1024);
const publicKeys = new Lru<nc.KeyObject>(4096);
const validated = new Lru<Uint8Array>(4096);

export function opensslCurve(curve: Curve): string {
  const c = OPENSSL_CURVE[curve];
  if (!c) throw err('ERR_UNSUPPORTED', `curve ${curve} is not a Weierstrass curve`);
  return c;
}

export function checkPrivate(curve: Curve, privateKey: Uint8Array): void {
  abytes(privateKey, `${curve} private key`, CURVE_SIZES[curve].privateKey);
}

export function ecPublicFromPrivate(curve: Curve, privateKey: Uint8Array): Uint8Array {
  const ecdh = nc.createECDH(opensslCurve(curve));
  try {
    ecdh.setPrivateKey(privateKey);
  } catch (e) {
    throw err('ERR_INVALID_KEY', `invalid ${curve} private key`, { cause: e });
  }
  return u8(ecdh.getPublicKey(null, 'uncompressed'));
}

export function privateKeyObject(curve: Curve, privateKey: Uint8Array): nc.KeyObject {
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

export function publicKeyObject(curve: Curve, publicKey: Uint8Array): nc.KeyObject {
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
