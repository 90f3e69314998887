/**
 * Routing 2.0 forward: wrapping per routing key, mediator-side parsing, both formats, and interop
 * with didcomm-node (it forwards through us; we forward through a mediator it parses).
 */
import { describe, expect, it } from 'vitest';
import { createDid, type SecretsFile } from '../../src/did/create.js';
import { OfflineResolver } from '../../src/did/resolver.js';
import { SecretsStore } from '../../src/did/secrets.js';
import { nodeBackend } from '../../src/crypto/node.js';
import { pack, unpack, type EnvelopeContext } from '../../src/envelope/index.js';
import { parseForward, wrapInForwards, FORWARD_TYPE } from '../../src/routing/forward.js';
import { routeTo } from '../../src/routing/route.js';
import type { DidDocument } from '../../src/did/document.js';
import type { Message } from '../../src/message/message.js';
import { PeerMessage, peerResolvers } from '../helpers/didcomm-node.js';
import { fromUtf8 } from '../../src/util/bytes.js';

const alice = createDid();
const mediator = createDid();
const bob = createDid();
const medKid = mediator.didDocument.keyAgreement![0] as string;
// Bob's document names the mediator as routing key (as a did:peer would): provisioned here.
const bobDoc: DidDocument = {
  ...bob.didDocument,
  service: [{ id: `${bob.did}#didcomm`, type: 'DIDCommMessaging', serviceEndpoint: { uri: 'https://mediator.example/didcomm', routingKeys: [medKid] } }],
};
const docs = [alice.didDocument, mediator.didDocument, bobDoc];

function ctxOf(...holders: SecretsFile[]): EnvelopeContext {
  const secrets = new SecretsStore();
  for (const h of holders) secrets.addFromJson(h);
  return { crypto: nodeBackend, resolver: new OfflineResolver({ documents: docs }), secrets };
}

const msg: Message = { id: '0a1b2c3d4e5f', type: 'https://didcomm.org/telemetry/1.0/report', from: alice.did, to: [bob.did], created_time: 1732250000, body: { temp: 21.5, hum: 40, ts: 1732250000 } };

describe('forward', () => {
  it('plans the route from the DID document', () => {
    const plan = routeTo(ctxOf().resolver, bob.did);
    expect(plan).toEqual({ endpoint: 'https://mediator.example/didcomm', accept: [], routingKeys: [medKid] });
  });

  it.each(['json', 'compact'] as const)('%s: sender wraps, mediator unwraps, recipient unpacks', async (format) => {
    const A = ctxOf(alice);
    const inner = (await pack(A, msg, { mode: 'authcrypt', format, to: [bob.did], from: alice.did })).bytes;
    const outer = await wrapInForwards(A, inner, { recipient: bob.did, routingKeys: routeTo(A.resolver, bob.did).routingKeys });
    const atMediator = await unpack(ctxOf(mediator), outer);
    expect(atMediator.message.type).toBe(FORWARD_TYPE);
    expect(atMediator.meta.layers).toEqual(['anoncrypt']);
    const f = parseForward(atMediator.message);
    expect(f.next).toBe(bob.did);
    expect((await unpack(ctxOf(bob), f.inner)).message).toEqual(msg);
  });

  it('authenticateOuter: the first mediator learns the sender, and only the outer layer changes', async () => {
    const A = ctxOf(alice);
    const inner = (await pack(A, msg, { mode: 'authcrypt', format: 'compact', to: [bob.did], from: alice.did })).bytes;
    const outer = await wrapInForwards(A, inner, { recipient: bob.did, routingKeys: [medKid], authenticateOuter: { from: alice.did } });
    const atMediator = await unpack(ctxOf(mediator), outer);
    expect(atMediator.meta.layers).toEqual(['authcrypt']);
    expect(atMediator.meta.authenticated).toBe(true);
    expect(atMediator.meta.senderKid?.split('#')[0]).toBe(alice.did);
    expect(atMediator.message).toMatchObject({ type: FORWARD_TYPE, from: alice.did, return_route: 'all' });
    const f = parseForward(atMediator.message);
    expect(f.inner).toEqual(inner);
    expect((await unpack(ctxOf(bob), f.inner)).message).toEqual(msg);
  });

  it('the mediator cannot read the inner message', async () => {
    const A = ctxOf(alice);
    const inner = (await pack(A, msg, { mode: 'authcrypt', format: 'compact', to: [bob.did], from: alice.did })).bytes;
    const outer = await wrapInForwards(A, inner, { recipient: bob.did, routingKeys: [medKid] });
    const f = parseForward((await unpack(ctxOf(mediator), outer)).message);
    await expect(unpack(ctxOf(mediator), f.inner)).rejects.toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
  });

  it('didcomm-node forwards through our mediator to our recipient', async () => {
    const { didResolver, secretsResolver } = peerResolvers([alice.didDocument, mediator.didDocument, bobDoc], alice.secrets);
    const withService = { ...didResolver, resolve: async (d: string) => {
      const doc = await didResolver.resolve(d);
      if (d === bob.did) doc.service = [{ id: `${bob.did}#didcomm`, type: 'DIDCommMessaging', serviceEndpoint: { uri: 'https://mediator.example/didcomm', accept: ['didcomm/v2'], routingKeys: [medKid] } }];
      return doc;
    } };
    const [packed, meta] = await new PeerMessage(msg).pack_encrypted(bob.did, alice.did, null, withService, secretsResolver, { forward: true });
    expect(meta.messaging_service?.service_endpoint).toBe('https://mediator.example/didcomm');
    const atMediator = await unpack(ctxOf(mediator), packed);
    const f = parseForward(atMediator.message);
    expect(f.next).toBe(bob.did);
    expect((await unpack(ctxOf(bob), f.inner)).message).toEqual({ typ: 'application/didcomm-plain+json', ...msg });
    expect(fromUtf8(f.inner).startsWith('{')).toBe(true);
  });

  it('a mediator refuses forwards it must not carry, each with ERR_INVALID_MESSAGE, and takes a JSON attachment as the inner envelope', async () => {
    const jwe = JSON.parse(fromUtf8((await pack(ctxOf(alice), msg, { mode: 'anoncrypt', to: [bob.did] })).bytes)) as Record<string, unknown>;
    const fwd = (body: Record<string, unknown>, attachments: unknown): Message => ({ id: 'f1', type: FORWARD_TYPE, body, attachments } as unknown as Message);
    const b64 = (t: string) => Buffer.from(t).toString('base64url');
    const ok = parseForward(fwd({ next: bob.did }, [{ data: { json: jwe } }]));
    expect(JSON.parse(fromUtf8(ok.inner))).toEqual(jwe);
    expect(parseForward(fwd({ next: bob.did }, [{ data: { base64: b64(JSON.stringify(jwe)) } }])).inner).toEqual(ok.inner);
    const refused: Array<[string, Message]> = [
      ['a plaintext as json', fwd({ next: bob.did }, [{ data: { json: msg } }])],
      ['a plaintext as base64', fwd({ next: bob.did }, [{ data: { base64: b64(JSON.stringify(msg)) } }])],
      ['json that is not an object', fwd({ next: bob.did }, [{ data: { json: [jwe] } }])],
      ['bytes that are no DIDComm message', fwd({ next: bob.did }, [{ data: { base64: b64('hello') } }])],
      ['no data', fwd({ next: bob.did }, [{ data: {} }])],
      ['two attachments', fwd({ next: bob.did }, [{ data: { json: jwe } }, { data: { json: jwe } }])],
      ['next is not a DID', fwd({ next: 'mailto:bob@example.com' }, [{ data: { json: jwe } }])],
    ];
    for (const [what, m] of refused) expect(() => parseForward(m), what).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MESSAGE' }));
  });
});
