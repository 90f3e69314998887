/**
 * The mediator core through `Mediator.receive`: coordination, forward storage, pickup, live
 * mode, discover features and trust ping — in both wire formats and every authenticated envelope
 * kind a device uses (authcrypt, signed-in-anoncrypt, pairwise).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { unpack } from '../../src/envelope/index.js';
import * as C from '../../src/protocols/coordinate-mediation.js';
import * as P from '../../src/protocols/pickup.js';
import { ping, PING_RESPONSE_TYPE } from '../../src/protocols/trust-ping.js';
import { queries, DISCLOSE_TYPE } from '../../src/protocols/discover-features.js';
import { EMPTY_TYPE } from '../../src/protocols/empty.js';
import { forwardMessage, parseForward, FORWARD_TYPE } from '../../src/routing/forward.js';
import { enroll, exchange, forwardTo, kidOf, makeParty, memoryMediator, testSession, type RequestMode } from './helpers.js';

const MODES: Array<['json' | 'compact', RequestMode]> = [
  ['json', 'authcrypt'],
  ['json', 'signed-anoncrypt'],
  ['compact', 'authcrypt'],
  ['compact', 'signed-anoncrypt'],
  ['compact', 'pairwise'],
];

describe('mediator core', () => {
  it.each(MODES)('%s/%s: grant, keylist, forward, status, delivery, messages-received', async (format, mode) => {
    const { mediator, party: med } = await memoryMediator();
    const device = makeParty();
    const sender = makeParty();
    if (mode === 'pairwise') await mediator.rememberPairwisePeer(device.did); // provisioned device
    await enroll(mediator, device, { format, mode });

    const kq = await exchange(mediator, device, C.keylistQuery(device.id(), device.did, mediator.did), { format, mode });
    expect(C.parseKeylist(kq.replies[0]!)).toEqual({ recipientDids: [device.did], pagination: { count: 1, offset: 0, remaining: 0 } });

    const f1 = await forwardTo(sender, device.did, { did: med.did, kid: kidOf(med) }, { temp: 21 }, format);
    const f2 = await forwardTo(sender, device.did, { did: med.did, kid: kidOf(med) }, { temp: 22 }, format);
    for (const f of [f1, f2]) {
      const out = await mediator.receive(f.bytes, testSession({ kind: 'http', persistent: false }));
      expect(out).toMatchObject({ stored: true, error: undefined, replies: [] });
    }

    const st = await exchange(mediator, device, P.statusRequest(device.id(), device.did, mediator.did), { format, mode });
    expect(st.outcome.mediaType).toBe(format === 'json' ? 'application/didcomm-encrypted+json' : 'application/didcomm-compact');
    expect(P.parseStatus(st.replies[0]!)).toMatchObject({ messageCount: 2, totalBytes: f1.inner.length + f2.inner.length, liveDelivery: false });

    const d = await exchange(mediator, device, P.deliveryRequest(device.id(), device.did, mediator.did, 10), { format, mode });
    const delivered = P.parseDelivery(d.replies[0]!);
    expect(delivered.messages.map((m) => m.bytes)).toEqual([f1.inner, f2.inner]);
    const opened = await unpack(device.ctx, delivered.messages[0]!.bytes);
    expect(opened.message).toEqual(f1.message);

    const ack = await exchange(mediator, device, P.messagesReceived(device.id(), device.did, mediator.did, [delivered.messages[0]!.id]), { format, mode });
    expect(P.parseStatus(ack.replies[0]!).messageCount).toBe(1);
    const d2 = await exchange(mediator, device, P.deliveryRequest(device.id(), device.did, mediator.did, 10), { format, mode });
    expect(P.parseDelivery(d2.replies[0]!).messages.map((m) => m.bytes)).toEqual([f2.inner]);
  });

  it('allowlist policy denies mediation to other DIDs', async () => {
    const allowed = makeParty();
    const other = makeParty();
    const { mediator } = await memoryMediator({ policy: { grant: { kind: 'allowlist', dids: [allowed.did] } } });
    const denied = await exchange(mediator, other, C.mediateRequest(other.id(), other.did, mediator.did));
    expect(C.isMediateDeny(denied.replies[0]!)).toBe(true);
    const granted = await exchange(mediator, allowed, C.mediateRequest(allowed.id(), allowed.did, mediator.did));
    expect(C.parseMediateGrant(granted.replies[0]!).routingDid).toBe(mediator.did);
    // without a grant, keylist updates are refused
    const upd = await exchange(mediator, other, C.keylistUpdate(other.id(), other.did, mediator.did, [{ recipientDid: other.did, action: 'add' }]));
    expect(upd.replies[0]).toMatchObject({ type: 'https://didcomm.org/report-problem/2.0/problem-report', body: { code: 'e.p.trust' } });
  });

  it('a recipient key belongs to one owner; removal and pagination', async () => {
    const { mediator } = await memoryMediator();
    const a = makeParty();
    const b = makeParty();
    await enroll(mediator, a, { keys: [a.did, 'did:example:shared'] });
    await enroll(mediator, b, { keys: [b.did] });
    const steal = await exchange(mediator, b, C.keylistUpdate(b.id(), b.did, mediator.did, [{ recipientDid: 'did:example:shared', action: 'add' }, { recipientDid: 'did:example:b2', action: 'add' }]));
    expect(C.parseKeylistUpdateResponse(steal.replies[0]!)).toEqual([
      { recipientDid: 'did:example:shared', action: 'add', result: 'client_error' },
      { recipientDid: 'did:example:b2', action: 'add', result: 'success' },
    ]);
    const rm = await exchange(mediator, b, C.keylistUpdate(b.id(), b.did, mediator.did, [{ recipientDid: 'did:example:shared', action: 'remove' }]));
    expect(C.parseKeylistUpdateResponse(rm.replies[0]!)[0]!.result).toBe('no_change');
    const page = await exchange(mediator, b, C.keylistQuery(b.id(), b.did, mediator.did, { limit: 1, offset: 1 }));
    expect(C.parseKeylist(page.replies[0]!)).toEqual({ recipientDids: [b.did], pagination: { count: 1, offset: 1, remaining: 0 } });
  });

  it('answers trust pings and discloses features, the size constraint and both formats', async () => {
    const { mediator } = await memoryMediator({ policy: { maxReceiveBytes: 4096 } });
    const p = makeParty();
    const pong = await exchange(mediator, p, { ...ping(p.id(), p.did, mediator.did), return_route: 'all' });
    expect(pong.replies[0]).toMatchObject({ type: PING_RESPONSE_TYPE });
    const noRoute = await exchange(mediator, p, ping(p.id(), p.did, mediator.did), { session: testSession({ kind: 'http', persistent: false }) });
    expect(noRoute.outcome.replies).toEqual([]);
    const q = queries(p.id(), p.did, mediator.did, [{ 'feature-type': 'protocol', match: 'https://didcomm.org/*' }, { 'feature-type': 'constraint', match: '*' }, { 'feature-type': 'accept', match: '*' }]);
    const d = await exchange(mediator, p, { ...q, return_route: 'all' }, { format: 'compact' });
    expect(d.replies[0]!.type).toBe(DISCLOSE_TYPE);
    const disclosures = d.replies[0]!.body!.disclosures as Array<Record<string, string>>;
    expect(disclosures.map((x) => x.id)).toEqual(expect.arrayContaining(['https://didcomm.org/routing/2.0', 'https://didcomm.org/messagepickup/3.0', 'https://didcomm.org/coordinate-mediation/2.0', 'didcomm/v2', 'didcomm/compact/1', 'max_receive_bytes']));
    expect(disclosures.find((x) => x.id === 'max_receive_bytes')).toMatchObject({ 'feature-type': 'constraint', max_receive_bytes: '4096' });
  });

  it('live mode pushes new mail (not mail queued before) on a persistent session; refuses it on HTTP', async () => {
    const { mediator, party: med } = await memoryMediator();
    const device = makeParty();
    const sender = makeParty();
    await enroll(mediator, device);
    const route = { did: med.did, kid: kidOf(med) };
    const old = await forwardTo(sender, device.did, route, { n: 0 });
    await mediator.receive(old.bytes, testSession());

    const http = testSession({ kind: 'http', persistent: false });
    const refused = await exchange(mediator, device, { ...P.liveDeliveryChange(device.id(), device.did, mediator.did, true) }, { session: http });
    expect(refused.replies[0]).toMatchObject({ body: { code: P.LIVE_MODE_NOT_SUPPORTED } });

    const ws = testSession({ kind: 'ws' });
    const on = await exchange(mediator, device, P.liveDeliveryChange(device.id(), device.did, mediator.did, true), { session: ws });
    expect(P.parseStatus(on.replies[0]!)).toMatchObject({ messageCount: 1, liveDelivery: true });
    const fresh = await forwardTo(sender, device.did, route, { n: 1 });
    await mediator.receive(fresh.bytes, testSession());
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(ws.pushed.length).toBe(1);
    const pushed = P.parseDelivery((await unpack(device.ctx, ws.pushed[0]!)).message);
    expect(pushed.messages.map((m) => m.bytes)).toEqual([fresh.inner]);
    // still queued until acknowledged
    const st = await exchange(mediator, device, P.statusRequest(device.id(), device.did, mediator.did), { session: ws });
    expect(P.parseStatus(st.replies[0]!).messageCount).toBe(2);
    const off = await exchange(mediator, device, P.liveDeliveryChange(device.id(), device.did, mediator.did, false), { session: ws });
    expect(P.parseStatus(off.replies[0]!).liveDelivery).toBe(false);
  });

  it('re-wraps payloads in a new forward to the recipient when asked', async () => {
    const { mediator, party: med } = await memoryMediator({ policy: { rewrap: true } });
    const device = makeParty();
    await enroll(mediator, device);
    const f = await forwardTo(makeParty(), device.did, { did: med.did, kid: kidOf(med) }, { x: 1 }, 'compact');
    await mediator.receive(f.bytes, testSession());
    const d = await exchange(mediator, device, P.deliveryRequest(device.id(), device.did, mediator.did, 1));
    const outer = await unpack(device.ctx, P.parseDelivery(d.replies[0]!).messages[0]!.bytes);
    expect(outer.message.type).toBe(FORWARD_TYPE);
    expect(outer.meta.layers).toEqual(['anoncrypt']);
    expect(parseForward(outer.message).inner).toEqual(f.inner);
  });

  it('honours delay_milli on the clock and acknowledges only once stored; expired forwards are refused', async () => {
    const clock = new ManualClock();
    const { mediator, party: med } = await memoryMediator({ clock });
    const device = makeParty();
    await enroll(mediator, device);
    const route = { did: med.did, kid: kidOf(med) };
    const delayed = await forwardTo(makeParty(), device.did, route, { x: 1 }, 'json', { delay_milli: 3000 });
    let done = false;
    const p = mediator.receive(delayed.bytes, testSession()).then((o) => ((done = true), o));
    await clock.advance(2000);
    expect(done).toBe(false);
    expect((await mediator.stores.mailbox.status(device.did)).messageCount).toBe(0);
    await clock.advance(1000);
    expect((await p).stored).toBe(true);
    expect((await mediator.stores.mailbox.status(device.did)).messageCount).toBe(1);
    const expired = await forwardTo(makeParty(), device.did, route, { x: 2 }, 'json', { expires_time: Math.floor(clock.now() / 1000) - 10 });
    const out = await mediator.receive(expired.bytes, testSession());
    expect(out.error?.code).toBe('ERR_EXPIRED');
  });

  it('a device forward with return_route gets a receipt (empty message with ack) once durable', async () => {
    const { mediator, party: med } = await memoryMediator();
    const device = makeParty();
    const peer = makeParty();
    await mediator.rememberPairwisePeer(device.did);
    await enroll(mediator, peer);
    const f = await forwardTo(device, peer.did, { did: med.did, kid: kidOf(med) }, { t: 1 }, 'compact');
    // the device sends the forward itself, pairwise to the mediator, asking for a receipt
    const fwd = { ...forwardMessage(device.ctx, peer.did, f.inner), from: device.did, to: [med.did] };
    const r = await exchange(mediator, device, { ...fwd, return_route: 'all' }, { format: 'compact', mode: 'pairwise', session: testSession({ kind: 'radio', duplex: true }) });
    expect(r.replies[0]?.body ?? r.outcome.error).toBeUndefined();
    expect(r.outcome.stored).toBe(true);
    expect(r.replies[0]).toMatchObject({ type: EMPTY_TYPE, ack: [fwd.id] });
    expect((await mediator.stores.mailbox.status(peer.did)).messageCount).toBe(1);
  });
});
