/** HPKE against every RFC 9180 Appendix A vector for DHKEM(X25519, HKDF-SHA256), base and auth modes. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { nobleBackend } from '../../src/crypto/noble.js';
import { nodeBackend } from '../../src/crypto/node.js';
import { deriveX25519KeyPair, hpkeKeyScheduleForTest, hpkeOpen, hpkeSeal, type HpkeAead } from '../../src/crypto/hpke.js';
import { fromHex, toHex } from '../../src/util/bytes.js';
import { DidcommError } from '../../src/errors.js';

const { vectors } = JSON.parse(readFileSync(new URL('../vectors/hpke/rfc9180-x25519.json', import.meta.url), 'utf8'));
const ours = vectors.filter((v: any) => v.mode === 0 || v.mode === 2);

describe.each([nodeBackend, nobleBackend])('HPKE on $name', (c) => {
  it('covers base and auth mode for both AEADs', () => expect(ours.length).toBe(4));
  for (const v of ours) {
    it(`RFC 9180 mode ${v.mode} aead ${v.aead_id}: keys, key schedule, seal and open`, () => {
      const aead = v.aead_id as HpkeAead;
      const r = deriveX25519KeyPair(c, fromHex(v.ikmR));
      const e = deriveX25519KeyPair(c, fromHex(v.ikmE));
      expect(toHex(r.privateKey)).toBe(v.skRm);
      expect(toHex(r.publicKey)).toBe(v.pkRm);
      expect(toHex(e.publicKey)).toBe(v.pkEm);
      const ks = hpkeKeyScheduleForTest(c, aead, v.mode, fromHex(v.shared_secret), fromHex(v.info));
      expect(toHex(ks.key)).toBe(v.key);
      expect(toHex(ks.baseNonce)).toBe(v.base_nonce);
      expect(toHex(ks.exporterSecret)).toBe(v.exporter_secret);
      const first = v.encryptions[0];
      const sender = v.mode === 2 ? deriveX25519KeyPair(c, fromHex(v.ikmS)) : undefined;
      if (sender) expect(toHex(sender.publicKey)).toBe(v.pkSm);
      const sealed = hpkeSeal(c, r.publicKey, fromHex(first.pt), {
        aead,
        info: fromHex(v.info),
        aad: fromHex(first.aad),
        ephemeralPrivateKey: e.privateKey,
        ...(sender ? { senderPrivateKey: sender.privateKey } : {}),
      });
      expect(toHex(sealed.enc)).toBe(v.enc);
      expect(toHex(sealed.ciphertext)).toBe(first.ct);
      const pt = hpkeOpen(c, r.privateKey, fromHex(v.enc), fromHex(first.ct), { aead, info: fromHex(v.info), aad: fromHex(first.aad), ...(sender ? { senderPublicKey: sender.publicKey } : {}) });
      expect(toHex(pt)).toBe(first.pt);
    });
  }

  it('auth mode fails with the wrong sender key, and any changed byte fails', () => {
    const r = c.generateKeyPair('X25519');
    const s = c.generateKeyPair('X25519');
    const other = c.generateKeyPair('X25519');
    const info = new Uint8Array([1]);
    const aad = new Uint8Array([2]);
    const { enc, ciphertext } = hpkeSeal(c, r.publicKey, new Uint8Array([7, 7, 7]), { info, aad, senderPrivateKey: s.privateKey });
    const open = (e: Uint8Array, ct: Uint8Array, pk: Uint8Array) => hpkeOpen(c, r.privateKey, e, ct, { info, aad, senderPublicKey: pk });
    expect(toHex(open(enc, ciphertext, s.publicKey))).toBe('070707');
    const failures = [() => open(enc, ciphertext, other.publicKey)];
    for (let i = 0; i < ciphertext.length; i++) {
      const t = new Uint8Array(ciphertext);
      t[i]! ^= 0x80;
      failures.push(() => open(enc, t, s.publicKey));
    }
    for (let i = 0; i < 32; i++) {
      const t = new Uint8Array(enc);
      t[i]! ^= 0x01;
      failures.push(() => open(t, ciphertext, s.publicKey));
    }
    for (const f of failures) {
      try {
        f();
        throw new Error('accepted a modified HPKE message');
      } catch (e) {
        expect(e).toBeInstanceOf(DidcommError);
        expect(['ERR_DECRYPTION_FAILED']).toContain((e as DidcommError).code);
      }
    }
  });
});
