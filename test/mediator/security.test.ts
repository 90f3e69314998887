/**
 * Mediator security: only the owner picks up its mail, anonymous pickup is refused, forwards to
 * unknown recipients are refused with the same answer as any refusal, oversized messages get 413,
 * full mailboxes and rate limits get problem reports (authenticated) or HTTP statuses (anonymous).
 * Over a real HttpListener on port 0.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HttpListener } from '../../transports/http/index.js';
import { ManualClock } from '../../src/util/clock.js';
import { unpack } from '../../src/envelope/index.js';
import * as P from '../../src/protocols/pickup.js';
import { parseProblemReport } from '../../src/protocols/report-problem.js';
import { forwardMessage } from '../../src/routing/forward.js';
import { mediatorHttpHook } from '../../src/mediator/listen-http.js';
import type { Mediator } from '../../src/mediator/service.js';
import type { MediatorPolicy } from '../../src/mediator/types.js';
import { enroll, exchange, forwardTo, kidOf, makeParty, memoryMediator, packFor, testSession, type Party } from './helpers.js';

let listeners: HttpListener[] = [];
afterEach(async () => {
  for (const l of listeners) await l.close();
  listeners = [];
});

async function serve(policy: Partial<MediatorPolicy> = {}, clock?: ManualClock): Promise<{ mediator: Mediator; med: Party; url: string }> {
  const { mediator, party } = await memoryMediator({ policy, ...(clock ? { clock } : {}) });
  const l = await HttpListener.listen({ port: 0, host: '127.0.0.1', maxMessageSize: mediator.policy.maxReceiveBytes, onRequest: mediatorHttpHook(mediator) });
  listeners.push(l);
  return { mediator, med: party, url: l.address! };
}

async function post(url: string, body: Uint8Array): Promise<{ status: number; headers: Headers; body: Uint8Array }> {
  const contentType = body[0] === 0x7b ? 'application/didcomm-encrypted+json' : 'application/didcomm-compact';
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: r.status, headers: r.headers, body: new Uint8Array(await r.arrayBuffer()) };
}

describe('mediator security', () => {
  it('pickup of another DID\'s mail is refused with e.p.trust and nothing is deleted', async () => {
    const { mediator, med } = await serve();
    const alice = makeParty();
    const mallory = makeParty();
    await enroll(mediator, alice);
    await enroll(mediator, mallory);
    const f = await forwardTo(makeParty(), alice.did, { did: med.did, kid: kidOf(med) }, { secret: 1 });
    await mediator.receive(f.bytes, testSession());
    const steal = await exchange(mediator, mallory, P.deliveryRequest(mallory.id(), mallory.did, mediator.did, 10, { recipientDid: alice.did }));
    expect(parseProblemReport(steal.replies[0]!).code).toBe('e.p.trust');
    const peek = await exchange(mediator, mallory, P.statusRequest(mallory.id(), mallory.did, mediator.did, { recipientDid: alice.did }));
    expect(parseProblemReport(peek.replies[0]!).code).toBe('e.p.trust');
    // ids of Alice's mail acknowledged by Mallory delete nothing
    const [stored] = await mediator.stores.mailbox.fetch(alice.did, 1);
    await exchange(mediator, mallory, P.messagesReceived(mallory.id(), mallory.did, mediator.did, [stored!.id]));
    expect((await mediator.stores.mailbox.status(alice.did)).messageCount).toBe(1);
    // a DID without mediation cannot pick up either
    const stranger = makeParty();
    const s = await exchange(mediator, stranger, P.statusRequest(stranger.id(), stranger.did, mediator.did));
    expect(parseProblemReport(s.replies[0]!).code).toBe('e.p.trust');
  });

  it('anoncrypt pickup requests are refused (403), even naming the owner in "from"', async () => {
    const { mediator, url } = await serve();
    const alice = makeParty();
    await enroll(mediator, alice);
    for (const format of ['json', 'compact'] as const) {
      const req = await packFor(alice, mediator.did, P.deliveryRequest(alice.id(), alice.did, mediator.did, 10), format, 'anoncrypt');
      const r = await post(url, req);
      expect(r.status).toBe(403);
      expect(r.body.length).toBe(0);
      const out = await mediator.receive(req, testSession({ kind: 'http', persistent: false }));
      expect(out.error?.code).toBe('ERR_NOT_AUTHORIZED');
    }
  });

  it('forwards to unknown recipients are refused like any refusal; accept-and-hold keeps them for later registration', async () => {
    const { mediator, med, url } = await serve();
    const f = await forwardTo(makeParty(), makeParty().did, { did: med.did, kid: kidOf(med) }, { x: 1 });
    const r = await post(url, f.bytes);
    expect(r.status).toBe(403);
    // with return_route from an authenticated sender: the same code as any other refusal
    const sender = makeParty();
    const fwd = { ...forwardMessage(sender.ctx, 'did:example:nobody', f.inner), from: sender.did, to: [med.did], return_route: 'all' as const };
    const pr = await exchange(mediator, sender, fwd);
    expect(pr.replies[0]).toMatchObject({ body: { code: 'e.p.req', comment: 'Request refused' } });

    const held = await serve({ unknownRecipient: 'accept-and-hold' });
    const late = makeParty();
    const g = await forwardTo(makeParty(), late.did, { did: held.med.did, kid: kidOf(held.med) }, { y: 2 });
    expect((await post(held.url, g.bytes)).status).toBe(202);
    await enroll(held.mediator, late);
    const d = await exchange(held.mediator, late, P.deliveryRequest(late.id(), late.did, held.mediator.did, 5));
    expect(P.parseDelivery(d.replies[0]!).messages[0]!.bytes).toEqual(g.inner);
  });

  it('oversized messages: 413 over HTTP, message_too_big problem report on a session', async () => {
    const { mediator, med, url } = await serve({ maxReceiveBytes: 2048 });
    const alice = makeParty();
    await enroll(mediator, alice);
    const big = await forwardTo(makeParty(), alice.did, { did: med.did, kid: kidOf(med) }, { blob: 'x'.repeat(3000) });
    expect((await post(url, big.bytes)).status).toBe(413);
    const out = await mediator.receive(big.bytes, testSession());
    expect(out.error?.problemCode).toBe('e.p.me.res.storage.message_too_big');
    const ws = testSession({ kind: 'ws' });
    ws.returnRoute = 'all';
    const onWs = await mediator.receive(big.bytes, ws);
    expect((await unpack(alice.ctx, onWs.replies[0]!)).message).toMatchObject({ body: { code: 'e.p.me.res.storage.message_too_big' } });
  });

  it('full mailbox: problem report e.p.me.res.storage to an authenticated sender, 503 to an anonymous one', async () => {
    const { mediator, med, url } = await serve({ mailbox: { maxMessages: 2, maxBytes: 1_000_000 } });
    const alice = makeParty();
    await enroll(mediator, alice);
    const route = { did: med.did, kid: kidOf(med) };
    for (let i = 0; i < 2; i++) expect((await post(url, (await forwardTo(makeParty(), alice.did, route, { i })).bytes)).status).toBe(202);
    expect((await post(url, (await forwardTo(makeParty(), alice.did, route, { i: 3 })).bytes)).status).toBe(503);
    const device = makeParty();
    const f = await forwardTo(device, alice.did, route, { i: 4 });
    const fwd = { ...forwardMessage(device.ctx, alice.did, f.inner), from: device.did, to: [med.did], return_route: 'all' as const };
    const r = await exchange(mediator, device, fwd);
    expect(parseProblemReport(r.replies[0]!).code).toBe('e.p.me.res.storage');
    expect(r.outcome.stored).toBe(false);
  });

  it('rate limits per sender: problem report e.p.me.res with the retry time; 429 + Retry-After for anonymous callers', async () => {
    const clock = new ManualClock();
    const { mediator, url } = await serve({ senderRate: { perSecond: 1, burst: 2 }, remoteRate: { perSecond: 1, burst: 3 } }, clock);
    const alice = makeParty();
    await enroll(mediator, alice); // 2 requests: the burst
    const limited = await exchange(mediator, alice, P.statusRequest(alice.id(), alice.did, mediator.did));
    const report = parseProblemReport(limited.replies[0]!);
    expect(report.code).toBe('e.p.me.res');
    expect(Number(report.args[0])).toBeGreaterThan(0);
    await clock.advance(1000);
    const ok = await exchange(mediator, alice, P.statusRequest(alice.id(), alice.did, mediator.did));
    expect(ok.replies[0]!.type).toBe(P.STATUS_TYPE);
    const junk = new Uint8Array([0x7b, 0x7d]);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(url, junk)).status);
    expect(statuses).toEqual([400, 400, 400, 429]);
    const r = await post(url, junk);
    expect(r.headers.get('retry-after')).toBe('1');
  });
});
