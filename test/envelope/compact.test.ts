/**
 * DIDComm Compact: lossless JSON ↔ compact mapping (property), every mode through the same façade
 * as JSON, layer checks, replay and restart rules, and rejection of every single-byte change.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createDid, type SecretsFile } from '../../src/did/create.js';
import { OfflineResolver } from '../../src/did/resolver.js';
import { SecretsStore } from '../../src/did/secrets.js';
import { nodeBackend } from '../../src/crypto/node.js';
import { nobleBackend } from '../../src/crypto/noble.js';
import { pack, unpack, type EnvelopeContext } from '../../src/envelope/index.js';
import { PairwiseSessions, memoryStateStore } from '../../src/envelope/compact/pairwise-sessions.js';
import type { Message } from '../../src/message/message.js';
import type { CryptoBackend } from '../../src/crypto/types.js';
import { DidcommError } from '../../src/errors.js';
import { jsonEqual } from '../../src/util/json.js';
import { toBase64url } from '../../src/util/base64url.js';

const alice = createDid();
const bob = createDid();
const carol = createDid();
const peer = createDid({ method: 'peer', services: ['https://mediator.example/didcomm'] });
const docs = [alice, bob, carol, peer].map((p) => p.didDocument);

function ctxOf(crypto: CryptoBackend, ...holders: SecretsFile[]): EnvelopeContext {
  const secrets = new SecretsStore(crypto);
  for (const h of holders) secrets.addFromJson(h);
  return { crypto, resolver: new OfflineResolver({ crypto, documents: docs }), secrets };
}

const telemetry = (from = alice.did, to = bob.did): Message => ({
  id: '0a1b2c3d4e5f',
  type: 'https://didcomm.org/telemetry/1.0/report',
  from,
  to: [to],
  created_time: 1732250000,
  body: { temp: 21.5, hum: 40, ts: 1732250000 },
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DidcommError);
    return (e as DidcommError).code;
  }
  return 'accepted';
}

// Random valid DIDComm messages, including unknown headers, attachments of every data kind,
// threads, acks, typ, return_route, and body values of every JSON type.
const json: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)));
const ids = fc.oneof(fc.uuid().map((u) => u.toLowerCase()), fc.uint8Array({ minLength: 1, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')), fc.stringMatching(/^[A-Za-z0-9._~-]{1,40}$/));
const dids = fc.constantFrom(alice.did, bob.did, carol.did, peer.did, 'did:example:123', 'did:web:example.com');
const attachment = fc.record(
  {
    id: fc.string({ minLength: 1, maxLength: 8 }),
    media_type: fc.constantFrom('application/json', 'text/plain'),
    byte_count: fc.nat(),
    data: fc.oneof(
      fc.uint8Array({ maxLength: 40 }).map((b) => ({ base64: toBase64url(b) })),
      fc.uint8Array({ maxLength: 40 }).map((b) => ({ base64: Buffer.from(b).toString('base64') })),
      json.map((j) => ({ json: j })),
      fc.record({ links: fc.array(fc.webUrl(), { maxLength: 2 }), hash: fc.stringMatching(/^[0-9a-f]{4,10}$/) }),
    ),
    'x-extra': fc.string(),
  },
  { requiredKeys: ['data'] },
);
const message: fc.Arbitrary<Message> = fc
  .record(
    {
      id: ids,
      type: fc.constantFrom('https://didcomm.org/telemetry/1.0/report', 'https://didcomm.org/telemetry/1.0/batch', 'https://didcomm.org/trust-ping/2.0/ping', 'https://example.org/custom/1.0/thing', 'https://didcomm.org/routing/2.0/forward'),
      typ: fc.constant('application/didcomm-plain+json'),
      from: dids,
      to: fc.array(dids, { minLength: 1, maxLength: 3 }),
      thid: ids,
      pthid: ids,
      created_time: fc.nat(),
      expires_time: fc.nat(),
      body: fc.oneof(
        fc.dictionary(fc.constantFrom('temp', 'hum', 'ts', 'next', 'response_requested', 'other', 'x', 'readings'), json),
        fc.record({ readings: fc.array(fc.dictionary(fc.constantFrom('temp', 'hum', 'ts', 'extra'), json), { maxLength: 3 }) }),
      ),
      sent_count: fc.oneof(fc.nat(), fc.string({ maxLength: 3 })),
      attachments: fc.array(attachment, { maxLength: 2 }),
      please_ack: fc.array(ids, { maxLength: 2 }),
      ack: fc.array(ids, { maxLength: 2 }),
      return_route: fc.constantFrom('none', 'all', 'thread'),
      lang: fc.constant('en'),
      custom_header: json,
      'accept-lang': fc.constant(['en', 'de']),
    },
    { requiredKeys: ['id', 'type'] },
  )
  .map((m) => JSON.parse(JSON.stringify(m)) as Message);

describe('compact plaintext mapping', () => {
  it('is lossless: JSON → compact → JSON gives an equal message (property)', async () => {
    const ctx = ctxOf(nodeBackend);
    await fc.assert(
      fc.asyncProperty(message, async (m) => {
        const { bytes } = await pack(ctx, m, { mode: 'plain', format: 'compact' });
        expect(bytes[0]).toBe(0xe0);
        const r = await unpack(ctx, bytes);
        expect(jsonEqual(r.message, m)).toBe(true);
        expect(r.meta.format).toBe('compact');
      }),
      { numRuns: 300 },
    );
  });
});

describe.each([nodeBackend, nobleBackend])('compact envelopes on $name', (crypto) => {
  const A = ctxOf(crypto, alice);
  const B = ctxOf(crypto, bob);
  const C = ctxOf(crypto, carol);

  it.each(['signed', 'anoncrypt', 'authcrypt'] as const)('%s round-trips through the façade with from/to restored', async (mode) => {
    const m = telemetry();
    const { bytes } = await pack(A, m, { mode, format: 'compact', to: [bob.did], from: alice.did });
    const r = await unpack(B, bytes);
    expect(r.message).toEqual(m);
    expect(r.meta.format).toBe('compact');
    expect(r.meta.layers).toEqual([mode]);
    if (mode !== 'signed') expect(r.meta.recipientKid?.startsWith(bob.did)).toBe(true);
  });

  it('sign-then-encrypt and protected sender nest as in JSON', async () => {
    const m = telemetry();
    const a = await pack(A, m, { mode: 'authcrypt', format: 'compact', to: [bob.did], from: alice.did, sign: true, protectSender: true });
    const r = await unpack(B, a.bytes);
    expect(r.message).toEqual(m);
    expect(r.meta.layers).toEqual(['anoncrypt', 'authcrypt', 'signed']);
    expect(r.meta.anonymousSender).toBe(true);
  });

  it('several recipients each open one frame, and a non-recipient cannot', async () => {
    const m = { ...telemetry(), to: [bob.did, carol.did] };
    for (const mode of ['anoncrypt', 'authcrypt'] as const) {
      const { bytes } = await pack(A, m, { mode, format: 'compact', to: [bob.did, carol.did], from: alice.did });
      expect((await unpack(B, bytes)).message).toEqual(m);
      expect((await unpack(C, bytes)).message).toEqual(m);
      expect(await code(unpack(ctxOf(crypto, peer), bytes))).toBe('ERR_SECRET_NOT_FOUND');
    }
  });

  it('pairwise: round-trips, rejects replays, and rejects old nonces after a restart', async () => {
    const storeA = memoryStateStore();
    const storeB = memoryStateStore();
    const sa = new PairwiseSessions(A, { store: storeA });
    const sb = new PairwiseSessions(B, { store: storeB });
    const m = telemetry();
    const f1 = (await pack(A, m, { mode: 'pairwise', format: 'compact', from: alice.did, to: [bob.did], pairwise: sa })).bytes;
    const f2 = (await pack(A, { ...m, id: 'beef' }, { mode: 'pairwise', format: 'compact', from: alice.did, to: [bob.did], pairwise: sa })).bytes;
    expect((await unpack(B, f2, { pairwise: sb })).message.id).toBe('beef');
    expect((await unpack(B, f1, { pairwise: sb })).message).toEqual(m); // out of order is fine once
    expect(await code(unpack(B, f1, { pairwise: sb }))).toBe('ERR_REPLAY');
    // The receiver restarts: a fresh sessions object on the same store still refuses both.
    const sb2 = new PairwiseSessions(B, { store: storeB });
    expect(await code(unpack(B, f2, { pairwise: sb2 }))).toBe('ERR_REPLAY');
    expect(await code(unpack(B, f1, { pairwise: sb2 }))).toBe('ERR_REPLAY');
    // The sender restarts: it never reuses a sequence number.
    const sa2 = new PairwiseSessions(A, { store: storeA });
    const f3 = (await pack(A, { ...m, id: 'cafe' }, { mode: 'pairwise', format: 'compact', from: alice.did, to: [bob.did], pairwise: sa2 })).bytes;
    expect(f3[2]).toBeGreaterThanOrEqual(16);
    expect((await unpack(B, f3, { pairwise: sb2 })).message.id).toBe('cafe');
  });

  it('rejects every single-byte change of every protected frame kind with a typed error', async () => {
    const m = telemetry();
    const frames: Array<[string, Uint8Array, () => Promise<unknown>]> = [];
    for (const mode of ['signed', 'anoncrypt', 'authcrypt'] as const) {
      const { bytes } = await pack(A, m, { mode, format: 'compact', to: [bob.did], from: alice.did });
      frames.push([mode, bytes, async () => undefined]);
    }
    const sa = new PairwiseSessions(A);
    const pw = (await pack(A, m, { mode: 'pairwise', format: 'compact', from: alice.did, to: [bob.did], pairwise: sa })).bytes;
    for (const [mode, bytes] of frames) {
      for (let i = 0; i < bytes.length; i++) {
        for (const flip of [0x01, 0x80]) {
          const t = new Uint8Array(bytes);
          t[i]! ^= flip;
          const c = await code(unpack(B, t));
          expect([mode, i, c]).not.toEqual([mode, i, 'accepted']);
        }
      }
    }
    for (let i = 0; i < pw.length; i++) {
      const t = new Uint8Array(pw);
      t[i]! ^= 0x01;
      expect(await code(unpack(B, t, { pairwise: new PairwiseSessions(B) }))).not.toBe('accepted');
    }
    // Truncated and extended frames.
    for (const [, bytes] of frames) {
      for (let n = 0; n < bytes.length; n++) expect(await code(unpack(B, bytes.subarray(0, n)))).not.toBe('accepted');
      expect(await code(unpack(B, new Uint8Array([...bytes, 0])))).not.toBe('accepted');
    }
  });

  it('enforces the layer rules: sender must be "from", recipient must be in "to"', async () => {
    const m = telemetry(carol.did, bob.did);
    expect(await code(pack(A, m, { mode: 'authcrypt', format: 'compact', to: [bob.did], from: alice.did }))).toBe('ERR_LAYER_MISMATCH');
    expect(await code(pack(A, telemetry(), { mode: 'anoncrypt', format: 'compact', to: [carol.did] }))).toBe('ERR_LAYER_MISMATCH');
  });
});
