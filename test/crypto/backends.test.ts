/**
 * Both crypto backends against published vectors (RFC 8032, RFC 7748, RFC 3394, RFC 5869,
 * RFC 8613 / COSE AES-CCM), against each other (property tests), and on invalid keys.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { nobleBackend } from '../../src/crypto/noble.js';
import { nodeBackend } from '../../src/crypto/node.js';
import type { CryptoBackend, Curve, KeyAgreementCurve, SignatureAlg } from '../../src/crypto/types.js';
import { fromHex, toHex, utf8 } from '../../src/util/bytes.js';
import { fromBase64url } from '../../src/util/base64url.js';
import { DidcommError } from '../../src/errors.js';

const backends: CryptoBackend[] = [nobleBackend, nodeBackend];
const json = (p: string) => JSON.parse(readFileSync(new URL(`../vectors/${p}`, import.meta.url), 'utf8'));

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DidcommError);
    return (e as DidcommError).code;
  }
  return 'no error';
}

describe.each(backends)('crypto backend $name', (c) => {
  it('Ed25519: RFC 8032 test 1 (the COSE eddsa-sig-01 key) signs byte for byte', () => {
    const sk = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
    const pk = c.publicKeyFromPrivate('Ed25519', sk);
    expect(toHex(pk)).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    const sig = c.sign('EdDSA', sk, new Uint8Array(0));
    expect(toHex(sig)).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
    expect(c.verify('EdDSA', pk, new Uint8Array(0), sig)).toBe(true);
    sig[0]! ^= 1;
    expect(c.verify('EdDSA', pk, new Uint8Array(0), sig)).toBe(false);
  });

  it('X25519: RFC 7748 §6.1', () => {
    const a = fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    const bPub = fromHex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
    expect(toHex(c.publicKeyFromPrivate('X25519', a))).toBe('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    expect(toHex(c.ecdh('X25519', a, bPub))).toBe('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');
  });

  it('HKDF-SHA256: RFC 5869 test case 1', () => {
    const okm = c.hkdfSha256(
      fromHex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b'),
      fromHex('000102030405060708090a0b0c'),
      fromHex('f0f1f2f3f4f5f6f7f8f9'),
      42,
    );
    expect(toHex(okm)).toBe('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
  });

  it('AES key wrap: RFC 3394 §4.6 (256-bit KEK, 256-bit key); tampering is ERR_DECRYPTION_FAILED', () => {
    const kek = fromHex('000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F');
    const key = fromHex('00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F');
    const wrapped = c.aesKeyWrap(kek, key);
    expect(toHex(wrapped)).toBe('28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21');
    expect(toHex(c.aesKeyUnwrap(kek, wrapped))).toBe(toHex(key));
    wrapped[3]! ^= 0x10;
    expect(codeOf(() => c.aesKeyUnwrap(kek, wrapped))).toBe('ERR_DECRYPTION_FAILED');
  });

  it('AES-CCM-16-64-128: RFC 8613 Appendix C messages and the COSE aes-ccm-enc-01 example', () => {
    const v = json('oscore/rfc8613-appendix-c.json');
    let checked = 0;
    for (const m of v.messages) {
      if (!m.ciphertext || !m.encryption_key) continue;
      const sealed = c.aesCcmSeal(fromHex(m.encryption_key), fromHex(m.nonce), fromHex(m.plaintext), fromHex(m.aad), 8);
      expect(toHex(sealed)).toBe(m.ciphertext);
      expect(toHex(c.aesCcmOpen(fromHex(m.encryption_key), fromHex(m.nonce), sealed, fromHex(m.aad), 8))).toBe(m.plaintext);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(4);
    const cose = json('cose/aes-ccm-enc-01.json');
    const key = fromBase64url(cose.input.encrypted.recipients[0].key.k);
    const iv = fromHex(cose.input.rng_stream[0]);
    const aad = fromHex(cose.intermediates.AAD_hex);
    const out = fromHex(cose.output.cbor);
    const sealed = c.aesCcmSeal(key, iv, utf8(cose.input.plaintext), aad, 8);
    expect(toHex(out).endsWith(toHex(sealed))).toBe(true);
  });

  it('AEADs reject any modified byte with ERR_DECRYPTION_FAILED', () => {
    const key32 = c.randomBytes(32);
    const key16 = c.randomBytes(16);
    const pt = utf8('telemetry: 21.5C');
    const aad = utf8('aad');
    const cases: Array<[string, Uint8Array, (s: Uint8Array) => Uint8Array]> = [
      ['gcm', c.aesGcmSeal(key32, new Uint8Array(12), pt, aad), (s) => c.aesGcmOpen(key32, new Uint8Array(12), s, aad)],
      ['chacha', c.chachaSeal(key32, new Uint8Array(12), pt, aad), (s) => c.chachaOpen(key32, new Uint8Array(12), s, aad)],
      ['xchacha', c.xchachaSeal(key32, new Uint8Array(24), pt, aad), (s) => c.xchachaOpen(key32, new Uint8Array(24), s, aad)],
      ['ccm', c.aesCcmSeal(key16, new Uint8Array(13), pt, aad, 8), (s) => c.aesCcmOpen(key16, new Uint8Array(13), s, aad, 8)],
    ];
    for (const [, sealed, open] of cases) {
      expect(toHex(open(sealed))).toBe(toHex(pt));
      for (let i = 0; i < sealed.length; i++) {
        const t = new Uint8Array(sealed);
        t[i]! ^= 0x01;
        expect(codeOf(() => open(t))).toBe('ERR_DECRYPTION_FAILED');
      }
      expect(codeOf(() => open(sealed.subarray(0, 5)))).toBe('ERR_DECRYPTION_FAILED');
    }
  });

  it('rejects invalid curve points and low-order X25519 keys with ERR_INVALID_KEY', () => {
    const kp = c.generateKeyPair('P-256');
    const bad = new Uint8Array(kp.publicKey);
    bad[64]! ^= 1; // y no longer satisfies the curve equation
    expect(codeOf(() => c.validatePublicKey('P-256', bad))).toBe('ERR_INVALID_KEY');
    expect(codeOf(() => c.ecdh('P-256', kp.privateKey, bad))).toBe('ERR_INVALID_KEY');
    const x = c.generateKeyPair('X25519');
    expect(codeOf(() => c.ecdh('X25519', x.privateKey, new Uint8Array(32)))).toBe('ERR_INVALID_KEY');
    // The Ed25519 identity point (small order) and a non-point encoding.
    const identity = fromHex('0100000000000000000000000000000000000000000000000000000000000000');
    expect(codeOf(() => c.validatePublicKey('Ed25519', identity))).toBe('ERR_INVALID_KEY');
    expect(codeOf(() => c.validatePublicKey('Ed25519', new Uint8Array(31)))).toBe('ERR_INVALID_KEY');
    expect(codeOf(() => c.validatePublicKey('P-384', new Uint8Array(97)))).toBe('ERR_INVALID_KEY');
  });

  it('accepts a compressed NIST point and returns it uncompressed', () => {
    const kp = c.generateKeyPair('P-256');
    const compressed = new Uint8Array(33);
    compressed[0] = 2 + (kp.publicKey[64]! & 1);
    compressed.set(kp.publicKey.subarray(1, 33), 1);
    expect(toHex(c.validatePublicKey('P-256', compressed))).toBe(toHex(kp.publicKey));
  });
});

describe.each(backends)('randomBytes ($name)', (c) => {
  it('gives the length asked, fresh bytes every call (across pool refills), copies the caller may keep', () => {
    const seen = new Set<string>();
    let total = 0;
    for (let i = 0; i < 3000; i++) {
      const n = [1, 12, 16, 32, 64, 300][i % 6]!;
      const b = c.randomBytes(n);
      expect(b).toBeInstanceOf(Uint8Array);
      expect(b.length).toBe(n);
      total += n;
      if (n >= 16) {
        const hex = Buffer.from(b.subarray(0, 16)).toString('hex');
        expect(seen.has(hex)).toBe(false);
        seen.add(hex);
      }
    }
    expect(total).toBeGreaterThan(3 * 4096); // went through several pool refills
    const a = c.randomBytes(32);
    const copy = a.slice();
    c.randomBytes(32);
    expect(a).toEqual(copy); // a later call does not touch what was handed out
    a.fill(0);
    expect(c.randomBytes(32).every((x) => x === 0)).toBe(false);
    expect(c.randomBytes(0)).toEqual(new Uint8Array(0));
  });
});

describe('backends agree with each other', () => {
  const curves: KeyAgreementCurve[] = ['X25519', 'P-256', 'P-384', 'P-521'];
  it.each(curves)('ECDH on %s gives the same secret in both directions and both backends', (curve) => {
    const a = nobleBackend.generateKeyPair(curve);
    const b = nodeBackend.generateKeyPair(curve);
    expect(toHex(nodeBackend.publicKeyFromPrivate(curve, a.privateKey))).toBe(toHex(a.publicKey));
    expect(toHex(nobleBackend.publicKeyFromPrivate(curve, b.privateKey))).toBe(toHex(b.publicKey));
    const s1 = nobleBackend.ecdh(curve, a.privateKey, b.publicKey);
    const s2 = nodeBackend.ecdh(curve, b.privateKey, a.publicKey);
    expect(toHex(s1)).toBe(toHex(s2));
  });

  const algs: Array<[SignatureAlg, Curve]> = [
    ['EdDSA', 'Ed25519'],
    ['ES256', 'P-256'],
    ['ES256K', 'secp256k1'],
    ['ES384', 'P-384'],
  ];
  it.each(algs)('%s signatures cross-verify, ECDSA ones are low-S', (alg, curve) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (msg) => {
        for (const [s, v] of [
          [nobleBackend, nodeBackend],
          [nodeBackend, nobleBackend],
        ] as const) {
          const kp = s.generateKeyPair(curve);
          const sig = s.sign(alg, kp.privateKey, msg);
          expect(v.verify(alg, kp.publicKey, msg, sig)).toBe(true);
          const other = new Uint8Array(msg.length + 1);
          expect(v.verify(alg, kp.publicKey, other, sig)).toBe(false);
        }
      }),
      { numRuns: 8 },
    );
  });

  it('symmetric primitives match byte for byte (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 40 }), (pt, aad) => {
        const k32 = nodeBackend.randomBytes(32);
        const k16 = nodeBackend.randomBytes(16);
        const iv = nodeBackend.randomBytes(24);
        const pairs: Array<[(b: CryptoBackend) => Uint8Array]> = [
          [(b) => b.aesGcmSeal(k32, iv.subarray(0, 12), pt, aad)],
          [(b) => b.chachaSeal(k32, iv.subarray(0, 12), pt, aad)],
          [(b) => b.xchachaSeal(k32, iv, pt, aad)],
          [(b) => b.aesCcmSeal(k16, iv.subarray(0, 13), pt, aad, 8)],
          [(b) => b.aesCcmSeal(k32, iv.subarray(0, 13), pt, aad, 16)],
          [(b) => b.aesCbcEncrypt(k32, iv.subarray(0, 16), pt)],
          [(b) => b.hmacSha512(k32, pt)],
          [(b) => b.hkdfSha256(pt, aad, k16, 42)],
        ];
        for (const [f] of pairs) expect(toHex(f(nobleBackend))).toBe(toHex(f(nodeBackend)));
        const cbc = nodeBackend.aesCbcEncrypt(k32, iv.subarray(0, 16), pt);
        expect(toHex(nobleBackend.aesCbcDecrypt(k32, iv.subarray(0, 16), cbc))).toBe(toHex(pt));
      }),
      { numRuns: 60 },
    );
  });
});
