/**
 * Every DIDComm v2 spec vector (Appendix C; P-384 and P-521 included) unpacks for every listed
 * recipient to exactly `expected_plaintext`, on both crypto backends; the EdDSA vector re-signs
 * byte for byte; the spec's errata (A.2 "kid " member names, C.1 plaintext mismatch) are handled.
 */
import { describe, expect, it } from 'vitest';
import { nobleBackend } from '../../src/crypto/noble.js';
import { nodeBackend } from '../../src/crypto/node.js';
import { unpackJson } from '../../src/envelope/jose/unpack.js';
import { signJws } from '../../src/envelope/jose/jws.js';
import { fromUtf8 } from '../../src/util/bytes.js';
import { privateKeyFromJwk } from '../../src/did/keys.js';
import { loadVector, secretFor, specContext, specVectors } from '../helpers/spec-vectors.js';

const vectors = specVectors();

describe.each([nodeBackend, nobleBackend])('spec vectors on the $name backend', (crypto) => {
  it('has all 9 signed/encrypted vectors', () => {
    expect(vectors.length).toBe(9);
  });

  for (const v of vectors) {
    const recipients = v.recipient_kids.length ? v.recipient_kids : [undefined];
    for (const kid of recipients) {
      it(`${v.name} unpacks for ${kid ?? 'anyone'} to exactly expected_plaintext`, () => {
        // Only that one recipient's private key (signed messages need none).
        const ctx = specContext(crypto, kid ? [secretFor(kid)] : []);
        const r = unpackJson(ctx, v.message);
        expect(fromUtf8(r.plaintext)).toBe(v.expected_plaintext);
        expect(r.message).toEqual(JSON.parse(v.expected_plaintext));
        if (kid) expect(r.meta.recipientKid).toBe(kid);
        if (v.kind === 'authcrypt') expect(r.meta.layers).toContain('authcrypt');
        if (v.kind === 'signed') {
          expect(r.meta.nonRepudiation).toBe(true);
          expect(r.meta.signerKid).toBe(v.signer_kid);
          expect(r.meta.signAlg).toBe(v.alg);
        }
      });
    }
  }

  it('re-signs the EdDSA vector byte for byte', () => {
    const v = loadVector('spec-c2-signed-eddsa-ed25519.json');
    const jwk = secretFor('did:example:alice#key-1');
    const key = privateKeyFromJwk(jwk, crypto);
    const ours = signJws(crypto, new TextEncoder().encode(v.expected_plaintext), { kid: 'did:example:alice#key-1', curve: key.curve, privateKey: key.privateKey });
    expect(JSON.parse(ours)).toEqual(JSON.parse(v.message));
  });

  it('uses the nested vector layers in the right order (anoncrypt(authcrypt(signed)))', () => {
    const v = vectors.find((x) => x.name.includes('over-authcrypt'))!;
    const ctx = specContext(crypto, [secretFor(v.recipient_kids[0]!)]);
    const r = unpackJson(ctx, v.message);
    expect(r.meta.layers).toEqual(['anoncrypt', 'authcrypt', 'signed']);
    expect(r.meta.anonymousSender).toBe(true);
    expect(r.meta.senderKid).toBe('did:example:alice#key-p521-1');
  });

  it('the C.1 plaintext differs from the payload inside C.2/C.3 (spec erratum) and validates on its own', () => {
    const c1 = loadVector('spec-c1-plaintext.json');
    const payload = JSON.parse(vectors[0]!.expected_plaintext);
    const c1msg = JSON.parse(c1.message);
    expect(c1msg.type).not.toBe(payload.type);
    const ctx = specContext(crypto, []);
    expect(unpackJson(ctx, c1.message).message).toEqual(c1msg);
  });
});
