/**
 * Interop both ways with didcomm-node 0.4.1 (SICPA didcomm-rust in WASM): it packs, we unpack; we
 * pack, it unpacks — signed (EdDSA, ES256, ES256K), anoncrypt with each enc, authcrypt, on
 * X25519 and P-256 (the curves didcomm-rust supports), and sign-then-encrypt / protected sender.
 */
import { describe, expect, it } from 'vitest';
import { createDid, type SecretsFile } from '../../src/did/create.js';
import { OfflineResolver } from '../../src/did/resolver.js';
import { SecretsStore } from '../../src/did/secrets.js';
import { nodeBackend } from '../../src/crypto/node.js';
import { nobleBackend } from '../../src/crypto/noble.js';
import { packJson } from '../../src/envelope/jose/pack.js';
import { unpackJson } from '../../src/envelope/jose/unpack.js';
import type { EnvelopeContext } from '../../src/envelope/types.js';
import type { Message } from '../../src/message/message.js';
import { PeerMessage, peerResolvers } from '../helpers/didcomm-node.js';
import { privateKeyFromJwk } from '../../src/did/keys.js';
import { didKeyFromPublicKey } from '../../src/did/did-key.js';
import { resolveDidKey } from '../../src/did/did-key.js';
import { privateKeyToJwk, toMultibase } from '../../src/did/keys.js';

function secp256k1Did(): SecretsFile {
  // did:key secp256k1: signs only (ES256K).
  const kp = nodeBackend.generateKeyPair('secp256k1');
  const did = didKeyFromPublicKey({ curve: 'secp256k1', bytes: kp.publicKey });
  const kid = `${did}#${toMultibase({ curve: 'secp256k1', bytes: kp.publicKey })}`;
  return { did, didDocument: resolveDidKey(did, nodeBackend), secrets: [privateKeyToJwk('secp256k1', kp.privateKey, kp.publicKey, kid)] };
}

const parties = {
  x25519: { alice: createDid(), bob: createDid() },
  p256: { alice: createDid({ keyType: 'P-256' }), bob: createDid({ keyType: 'P-256' }) },
};
const k1 = secp256k1Did();
const allDocs = [...Object.values(parties).flatMap((p) => [p.alice.didDocument, p.bob.didDocument]), k1.didDocument];

function ours(crypto = nodeBackend, ...holders: SecretsFile[]): EnvelopeContext {
  const secrets = new SecretsStore(crypto);
  for (const h of holders) secrets.addFromJson(h);
  return { crypto, resolver: new OfflineResolver({ crypto, documents: allDocs }), secrets };
}

function theirs(...holders: SecretsFile[]) {
  return peerResolvers(allDocs, holders.flatMap((h) => h.secrets));
}

function message(from: string, to: string): Message {
  return {
    id: 'a1b2c3d4e5f6',
    typ: 'application/didcomm-plain+json',
    type: 'https://didcomm.org/telemetry/1.0/report',
    from,
    to: [to],
    created_time: 1732250000,
    body: { temp: 21.5, hum: 40, ts: 1732250000 },
  };
}

async function theyUnpack(envelope: string, holder: SecretsFile): Promise<{ msg: any; meta: any }> {
  const { didResolver, secretsResolver } = theirs(holder);
  const [m, meta] = await PeerMessage.unpack(envelope, didResolver, secretsResolver, {});
  return { msg: m.as_value(), meta };
}

describe.each(Object.entries(parties))('interop with didcomm-node on %s', (_curve, { alice, bob }) => {
  const msg = message(alice.did, bob.did);

  for (const enc of ['A256CBC-HS512', 'A256GCM', 'XC20P'] as const) {
    const peerEnc = { 'A256CBC-HS512': 'A256cbcHs512EcdhEsA256kw', A256GCM: 'A256gcmEcdhEsA256kw', XC20P: 'Xc20pEcdhEsA256kw' }[enc];
    it(`anoncrypt ${enc}: they pack, we unpack (both backends)`, async () => {
      const { didResolver, secretsResolver } = theirs(alice);
      const [packed] = await new PeerMessage(msg).pack_encrypted(bob.did, null, null, didResolver, secretsResolver, { forward: false, enc_alg_anon: peerEnc });
      for (const crypto of [nodeBackend, nobleBackend]) {
        const r = unpackJson(ours(crypto, bob), packed);
        expect(r.message).toEqual(msg);
        expect(r.meta.layers).toEqual(['anoncrypt']);
        expect(r.meta.enc).toBe(enc);
      }
    });
    it(`anoncrypt ${enc}: we pack, they unpack`, async () => {
      const packed = packJson(ours(nodeBackend, alice), msg, { mode: 'anoncrypt', to: [bob.did], enc }).envelope;
      const { msg: got, meta } = await theyUnpack(packed, bob);
      expect(got).toEqual(msg);
      expect(meta.encrypted).toBe(true);
      expect(meta.anonymous_sender).toBe(true);
    });
  }

  it('authcrypt: they pack, we unpack', async () => {
    const { didResolver, secretsResolver } = theirs(alice);
    const [packed] = await new PeerMessage(msg).pack_encrypted(bob.did, alice.did, null, didResolver, secretsResolver, { forward: false });
    const r = unpackJson(ours(nodeBackend, bob), packed);
    expect(r.message).toEqual(msg);
    expect(r.meta.layers).toEqual(['authcrypt']);
    expect(r.meta.senderKid?.startsWith(alice.did)).toBe(true);
  });

  it('authcrypt: we pack, they unpack and authenticate the sender', async () => {
    const packed = packJson(ours(nodeBackend, alice), msg, { mode: 'authcrypt', to: [bob.did], from: alice.did }).envelope;
    const { msg: got, meta } = await theyUnpack(packed, bob);
    expect(got).toEqual(msg);
    expect(meta.authenticated).toBe(true);
    expect(meta.encrypted_from_kid.startsWith(alice.did)).toBe(true);
  });

  it('authcrypt with protected sender and a signature: both directions', async () => {
    const { didResolver, secretsResolver } = theirs(alice);
    const [packed] = await new PeerMessage(msg).pack_encrypted(bob.did, alice.did, alice.did, didResolver, secretsResolver, { forward: false, protect_sender: true });
    const r = unpackJson(ours(nodeBackend, bob), packed);
    expect(r.message).toEqual(msg);
    expect(r.meta.layers).toEqual(['anoncrypt', 'authcrypt', 'signed']);
    const mine = packJson(ours(nodeBackend, alice), msg, { mode: 'authcrypt', to: [bob.did], from: alice.did, sign: true, protectSender: true }).envelope;
    const { msg: got, meta } = await theyUnpack(mine, bob);
    expect(got).toEqual(msg);
    expect(meta.non_repudiation).toBe(true);
    expect(meta.anonymous_sender).toBe(true);
  });

  it('signed: both directions', async () => {
    const { didResolver, secretsResolver } = theirs(alice);
    const [packed] = await new PeerMessage(msg).pack_signed(alice.did, didResolver, secretsResolver);
    const r = unpackJson(ours(nodeBackend), packed);
    expect(r.message).toEqual(msg);
    expect(r.meta.nonRepudiation).toBe(true);
    const mine = packJson(ours(nodeBackend, alice), msg, { mode: 'signed', from: alice.did }).envelope;
    const { msg: got, meta } = await theyUnpack(mine, bob);
    expect(got).toEqual(msg);
    expect(meta.non_repudiation).toBe(true);
  });
});

describe('ES256K interop', () => {
  it('signed with secp256k1: both directions', async () => {
    const bob = parties.x25519.bob;
    const msg = message(k1.did, bob.did);
    const { didResolver, secretsResolver } = theirs(k1);
    const [packed] = await new PeerMessage(msg).pack_signed(k1.did, didResolver, secretsResolver);
    expect(unpackJson(ours(nodeBackend), packed).meta.signAlg).toBe('ES256K');
    const mine = packJson(ours(nodeBackend, k1), msg, { mode: 'signed', from: k1.did }).envelope;
    const { msg: got } = await theyUnpack(mine, bob);
    expect(got).toEqual(msg);
    expect(privateKeyFromJwk(k1.secrets[0], nodeBackend).curve).toBe('secp256k1');
  });
});
