/**
 * Public/private key material in the three representations DIDs use: raw bytes (our internal
 * form), JWK (RFC 7517/8037, `publicKeyJwk` and secrets files) and multibase multicodec
 * (`publicKeyMultibase`, did:key, did:peer). Multicodec codes from the multiformats table:
 * ed25519-pub 0xed, x25519-pub 0xec, secp256k1-pub 0xe7, p256-pub 0x1200, p384-pub 0x1201,
 * p521-pub 0x1202 (EC keys compressed).
 */
import { err } from '../errors.js';
import { concatBytes } from '../util/bytes.js';
import { fromBase58, toBase58 } from '../util/base58.js';
import { fromBase64url, toBase64url } from '../util/base64url.js';
import { decodeVarint, encodeVarint } from '../util/varint.js';
import { isJsonObject } from '../util/json.js';
import { CURVE_SIZES, type CryptoBackend, type Curve } from '../crypto/types.js';

/** A public key with its curve; EC keys uncompressed. */
export interface PublicKey {
  curve: Curve;
  bytes: Uint8Array;
}

export interface Jwk {
  kty: string;
  crv: string;
  x: string;
  y?: string;
  d?: string;
  kid?: string;
  [k: string]: unknown;
}

const CODECS: ReadonlyArray<[number, Curve]> = [
  [0xed, 'Ed25519'],
  [0xec, 'X25519'],
  [0xe7, 'secp256k1'],
  [0x1200, 'P-256'],
  [0x1201, 'P-384'],
  [0x1202, 'P-521'],
];

export function codecOf(curve: Curve): number {
  return CODECS.find(([, c]) => c === curve)![0];
}

function curveOfCodec(code: number): Curve {
  const c = CODECS.find(([k]) => k === code);
  if (!c) throw err('ERR_UNSUPPORTED', `unsupported multicodec key type 0x${code.toString(16)}`);
  return c[1];
}

/** Compressed SEC1 form of an uncompressed EC point (what did:key carries). */
export function compressPoint(uncompressed: Uint8Array): Uint8Array {
  const n = (uncompressed.length - 1) / 2;
  const out = new Uint8Array(n + 1);
  out[0] = 2 + (uncompressed[uncompressed.length - 1]! & 1);
  out.set(uncompressed.subarray(1, 1 + n), 1);
  return out;
}

/** Multicodec-prefixed key bytes (the binary form of a did:key). */
export function toMulticodec(key: PublicKey): Uint8Array {
  const body = key.curve === 'Ed25519' || key.curve === 'X25519' ? key.bytes : compressPoint(key.bytes);
  return concatBytes(encodeVarint(codecOf(key.curve)), body);
}

/** Parses multicodec-prefixed key bytes, validating the point. */
export function fromMulticodec(bytes: Uint8Array, crypto: CryptoBackend): PublicKey {
  const { value, length } = decodeVarint(bytes, 0, 3);
  const curve = curveOfCodec(value);
  const body = bytes.subarray(length);
  const expected = curve === 'Ed25519' || curve === 'X25519' ? 32 : CURVE_SIZES[curve].field + 1;
  if (body.length !== expected) throw err('ERR_INVALID_KEY', `${curve} multicodec key has wrong length`);
  return { curve, bytes: crypto.validatePublicKey(curve, body) };
}

export function toMultibase(key: PublicKey): string {
  return 'z' + toBase58(toMulticodec(key));
}

export function fromMultibase(s: string, crypto: CryptoBackend): PublicKey {
  if (typeof s !== 'string' || s[0] !== 'z') throw err('ERR_MALFORMED', 'multibase key must be base58btc (z...)');
  return fromMulticodec(fromBase58(s.slice(1)), crypto);
}

const JWK_CURVES: Record<string, { kty: string; curve: Curve }> = {
  Ed25519: { kty: 'OKP', curve: 'Ed25519' },
  X25519: { kty: 'OKP', curve: 'X25519' },
  'P-256': { kty: 'EC', curve: 'P-256' },
  'P-384': { kty: 'EC', curve: 'P-384' },
  'P-521': { kty: 'EC', curve: 'P-521' },
  secp256k1: { kty: 'EC', curve: 'secp256k1' },
};

function b64field(jwk: Record<string, unknown>, name: string, length: number): Uint8Array {
  const v = jwk[name];
  if (typeof v !== 'string') throw err('ERR_INVALID_KEY', `JWK: missing "${name}"`);
  // didcomm-rust tolerates padded base64url in some vectors; strip '=' but stay canonical otherwise.
  const b = fromBase64url(v.replace(/=+$/, ''), `JWK ${name}`);
  if (b.length !== length) throw err('ERR_INVALID_KEY', `JWK: "${name}" must be ${length} bytes`);
  return b;
}

/** Parses a public JWK (ignores `d`), validating the point. */
export function publicKeyFromJwk(jwk: unknown, crypto: CryptoBackend): PublicKey {
  if (!isJsonObject(jwk)) throw err('ERR_INVALID_KEY', 'JWK must be an object');
  const info = typeof jwk.crv === 'string' ? JWK_CURVES[jwk.crv] : undefined;
  if (!info || jwk.kty !== info.kty) throw err('ERR_UNSUPPORTED', `unsupported JWK kty/crv ${String(jwk.kty)}/${String(jwk.crv)}`);
  const n = CURVE_SIZES[info.curve].field;
  const x = b64field(jwk, 'x', n);
  const raw = info.kty === 'OKP' ? x : concatBytes(Uint8Array.of(4), x, b64field(jwk, 'y', n));
  return { curve: info.curve, bytes: crypto.validatePublicKey(info.curve, raw) };
}

/** Parses a private JWK; checks that `d` matches `x`/`y` when they are present. */
export function privateKeyFromJwk(jwk: unknown, crypto: CryptoBackend): { curve: Curve; privateKey: Uint8Array; publicKey: Uint8Array } {
  if (!isJsonObject(jwk)) throw err('ERR_INVALID_KEY', 'JWK must be an object');
  const info = typeof jwk.crv === 'string' ? JWK_CURVES[jwk.crv] : undefined;
  if (!info || jwk.kty !== info.kty) throw err('ERR_UNSUPPORTED', `unsupported JWK kty/crv ${String(jwk.kty)}/${String(jwk.crv)}`);
  const privateKey = b64field(jwk, 'd', CURVE_SIZES[info.curve].privateKey);
  const publicKey = crypto.publicKeyFromPrivate(info.curve, privateKey);
  if (typeof jwk.x === 'string') {
    const declared = publicKeyFromJwk(jwk, crypto);
    if (toBase64url(declared.bytes) !== toBase64url(publicKey)) throw err('ERR_INVALID_KEY', 'JWK: d does not match x/y');
  }
  return { curve: info.curve, privateKey, publicKey };
}

export function publicKeyToJwk(key: PublicKey): Jwk {
  const kty = JWK_CURVES[key.curve]!.kty;
  if (kty === 'OKP') return { kty, crv: key.curve, x: toBase64url(key.bytes) };
  const n = CURVE_SIZES[key.curve].field;
  return { kty, crv: key.curve, x: toBase64url(key.bytes.subarray(1, 1 + n)), y: toBase64url(key.bytes.subarray(1 + n)) };
}

export function privateKeyToJwk(curve: Curve, privateKey: Uint8Array, publicKey: Uint8Array, kid?: string): Jwk {
  const jwk: Jwk = { ...(kid === undefined ? {} : { kid }), ...publicKeyToJwk({ curve, bytes: publicKey }), d: toBase64url(privateKey) };
  return jwk;
}
