/**
 * Message Pickup 3.0 and Coordinate Mediation 2.0 message builders/parsers: shapes as on
 * didcomm.org, round trips through both wire formats, and typed errors on malformed bodies.
 */
import { describe, expect, it } from 'vitest';
import { createDid, type SecretsFile } from '../../src/did/create.js';
import { OfflineResolver } from '../../src/did/resolver.js';
import { SecretsStore } from '../../src/did/secrets.js';
import { nodeBackend } from '../../src/crypto/node.js';
import { pack, unpack, type EnvelopeContext } from '../../src/envelope/index.js';
import { utf8 } from '../../src/util/bytes.js';
import { toBase64 } from '../../src/util/base64url.js';
import type { Message } from '../../src/message/message.js';
import * as P from '../../src/protocols/pickup.js';
import * as C from '../../src/protocols/coordinate-mediation.js';

const device = createDid();
const mediator = createDid();

function ctxOf(...holders: SecretsFile[]): EnvelopeContext {
  const secrets = new SecretsStore();
  for (const h of holders) secrets.addFromJson(h);
  return { crypto: nodeBackend, resolver: new OfflineResolver(), secrets };
}

async function roundTrip(m: Message, format: 'json' | 'compact', fromSide: SecretsFile, toSide: SecretsFile): Promise<Message> {
  const to = m.to?.[0] ?? (fromSide === device ? mediator.did : device.did);
  const bytes = (await pack(ctxOf(fromSide), m, { mode: 'authcrypt', format, to: [to], from: fromSide.did })).bytes;
  return (await unpack(ctxOf(toSide), bytes)).message;
}

const compactFrame = new Uint8Array([0xe6, 0x83, 1, 2, 3]);
const jsonEnvelope = utf8(JSON.stringify({ protected: 'x', recipients: [], iv: 'a', ciphertext: 'b', tag: 'c' }));

describe('message pickup 3.0', () => {
  it('requests carry return_route "all" and the didcomm.org body shapes', () => {
    const sr = P.statusRequest('1', device.did, mediator.did, { recipientDid: device.did });
    expect(sr).toMatchObject({ type: 'https://didcomm.org/messagepickup/3.0/status-request', return_route: 'all', body: { recipient_did: device.did }, from: device.did, to: [mediator.did] });
    const dr = P.deliveryRequest('2', device.did, mediator.did, 10);
    expect(dr).toMatchObject({ type: P.DELIVERY_REQUEST_TYPE, return_route: 'all', body: { limit: 10 } });
    expect(P.messagesReceived('3', device.did, mediator.did, ['a', 'b']).body).toEqual({ message_id_list: ['a', 'b'] });
    expect(P.liveDeliveryChange('4', device.did, mediator.did, true)).toMatchObject({ return_route: 'all', body: { live_delivery: true } });
    expect(P.parseDeliveryRequest(dr)).toEqual({ limit: 10, recipientDid: undefined });
    expect(P.parseStatusRequest(sr)).toEqual({ recipientDid: device.did });
    expect(P.parseMessagesReceived(P.messagesReceived('3', undefined, mediator.did, ['x']))).toEqual(['x']);
    expect(P.parseLiveDeliveryChange(P.liveDeliveryChange('4', undefined, mediator.did, false))).toBe(false);
  });

  it('status and delivery are threaded replies; delivery round-trips both JSON and compact payloads', () => {
    const req = P.deliveryRequest('req-1', device.did, mediator.did, 5);
    const st = P.status('s1', req, mediator.did, { messageCount: 3, totalBytes: 900, liveDelivery: false, oldestReceivedTime: 5, newestReceivedTime: 9, longestWaitedSeconds: 4 });
    expect(st).toMatchObject({ thid: 'req-1', to: [device.did], body: { message_count: 3, total_bytes: 900, live_delivery: false } });
    expect(P.parseStatus(st)).toEqual({ messageCount: 3, totalBytes: 900, liveDelivery: false, oldestReceivedTime: 5, newestReceivedTime: 9, longestWaitedSeconds: 4 });
    const d = P.delivery('d1', req, mediator.did, [{ id: 'm1', bytes: compactFrame }, { id: 'm2', bytes: jsonEnvelope }]);
    expect(d.attachments![0]).toEqual({ id: 'm1', data: { base64: '5oMBAgM' } });
    expect(P.parseDelivery(d)).toEqual({ recipientDid: undefined, messages: [{ id: 'm1', bytes: compactFrame }, { id: 'm2', bytes: jsonEnvelope }] });
  });

  it('parses data.json and padded standard base64 attachments', () => {
    const env = { protected: 'x', recipients: [], iv: 'a', ciphertext: 'b', tag: 'c' };
    const m: Message = { id: 'd', type: P.DELIVERY_TYPE, thid: 'r', body: {}, attachments: [{ id: 'j', data: { json: env } }, { id: 'k', data: { base64: toBase64(compactFrame) } }] };
    const parsed = P.parseDelivery(m);
    expect(JSON.parse(new TextDecoder().decode(parsed.messages[0]!.bytes))).toEqual(env);
    expect(parsed.messages[1]!.bytes).toEqual(compactFrame);
  });

  it.each(['json', 'compact'] as const)('%s: a delivery survives packing and unpacking', async (format) => {
    const req = P.deliveryRequest('req-2', device.did, mediator.did, 5);
    const d = P.delivery('d2', req, mediator.did, [{ id: '0192aa', bytes: compactFrame }, { id: '0192ab', bytes: jsonEnvelope }], { recipientDid: device.did });
    const back = await roundTrip(d, format, mediator, device);
    expect(P.parseDelivery(back)).toEqual({ recipientDid: device.did, messages: [{ id: '0192aa', bytes: compactFrame }, { id: '0192ab', bytes: jsonEnvelope }] });
    const st = await roundTrip(P.status('s2', req, mediator.did, { messageCount: 0, liveDelivery: true }), format, mediator, device);
    expect(P.parseStatus(st)).toEqual({ messageCount: 0, liveDelivery: true });
    const r = await roundTrip(P.statusRequest('q', device.did, mediator.did), format, device, mediator);
    expect(r.return_route).toBe('all');
  });

  it('refuses malformed bodies with ERR_INVALID_MESSAGE', () => {
    const bad = (type: string, body: Record<string, unknown>, extra: Partial<Message> = {}): Message => ({ id: 'x', type, body: body as Message['body'], ...extra });
    expect(() => P.parseDeliveryRequest(bad(P.DELIVERY_REQUEST_TYPE, {}))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MESSAGE' }));
    expect(() => P.parseDeliveryRequest(bad(P.DELIVERY_REQUEST_TYPE, { limit: 0 }))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MESSAGE' }));
    expect(() => P.parseDeliveryRequest(bad(P.DELIVERY_REQUEST_TYPE, { limit: 5, recipient_did: 'nope' }))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MESSAGE' }));
    expect(P.parseDeliveryRequest(bad(P.DELIVERY_REQUEST_TYPE, { limit: 1e9 })).limit).toBe(P.MAX_DELIVERY_LIMIT);
    expect(() => P.parseMessagesReceived(bad(P.MESSAGES_RECEIVED_TYPE, { message_id_list: [1] }))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MESSAGE' }));
    expect(() => P.parseMessagesReceived(bad(P.MESSAGES_RECEIVED_TYPE, { message_id_list: new Array(P.MAX_ID_LIST + 1).fill('a') }))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MESSAGE' }));
    expect(() => P.parseLiveDeliveryChange(bad(P.LIVE_DELIVERY_CHANGE_TYPE, { live_delivery: 'yes' }))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MESSAGE' }));
    expect(() => P.parseStatus(bad(P.STATUS_TYPE, {}))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MESSAGE' }));
    expect(() => P.parseDelivery(bad(P.DELIVERY_TYPE, {}))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MESSAGE' }));
    // plaintext (not encrypted) payloads may not be delivered
    const plain = bad(P.DELIVERY_TYPE, {}, { attachments: [{ id: 'a', data: { json: { id: '1', type: 't' } } }] });
    expect(() => P.parseDelivery(plain)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MESSAGE' }));
    const garbage = bad(P.DELIVERY_TYPE, {}, { attachments: [{ id: 'a', data: { base64: 'AAEC' } }] });
    expect(() => P.parseDelivery(garbage)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MESSAGE' }));
    expect(() => P.parseStatus(bad(P.DELIVERY_TYPE, {}))).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
    expect(() => P.deliveryRequest('x', undefined, mediator.did, 0)).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
  });
});

describe('coordinate mediation 2.0', () => {
  it('builds and parses the request/response pairs', () => {
    const mr = C.mediateRequest('1', device.did, mediator.did);
    expect(mr).toMatchObject({ type: 'https://didcomm.org/coordinate-mediation/2.0/mediate-request', return_route: 'all', body: {} });
    const grant = C.mediateGrant('2', mr, mediator.did, mediator.did);
    expect(grant).toMatchObject({ thid: '1', to: [device.did], body: { routing_did: mediator.did } });
    expect(C.parseMediateGrant(grant)).toEqual({ routingDid: mediator.did, routingDids: [mediator.did] });
    expect(C.parseMediateGrant({ ...grant, body: { routing_did: [mediator.did] } }).routingDid).toBe(mediator.did);
    expect(C.isMediateDeny(C.mediateDeny('3', mr, mediator.did))).toBe(true);

    const ku = C.keylistUpdate('4', device.did, mediator.did, [{ recipientDid: device.did, action: 'add' }]);
    expect(ku.body).toEqual({ updates: [{ recipient_did: device.did, action: 'add' }] });
    expect(C.parseKeylistUpdate(ku)).toEqual([{ recipientDid: device.did, action: 'add' }]);
    const kur = C.keylistUpdateResponse('5', ku, mediator.did, [{ recipientDid: device.did, action: 'add', result: 'success' }]);
    expect(C.parseKeylistUpdateResponse(kur)).toEqual([{ recipientDid: device.did, action: 'add', result: 'success' }]);

    const kq = C.keylistQuery('6', device.did, mediator.did, { limit: 2, offset: 0 });
    expect(C.parseKeylistQuery(kq)).toEqual({ limit: 2, offset: 0 });
    expect(C.parseKeylistQuery(C.keylistQuery('7', device.did, mediator.did))).toBeUndefined();
    const kl = C.keylist('8', kq, mediator.did, [device.did], { count: 1, offset: 0, remaining: 0 });
    expect(C.parseKeylist(kl)).toEqual({ recipientDids: [device.did], pagination: { count: 1, offset: 0, remaining: 0 } });
  });

  it.each(['json', 'compact'] as const)('%s: round-trips through envelopes', async (format) => {
    const ku = C.keylistUpdate('4', device.did, mediator.did, [{ recipientDid: `${device.did}#key-x`, action: 'remove' }]);
    expect(C.parseKeylistUpdate(await roundTrip(ku, format, device, mediator))).toEqual([{ recipientDid: `${device.did}#key-x`, action: 'remove' }]);
    const grant = await roundTrip(C.mediateGrant('g', ku, mediator.did, mediator.did), format, mediator, device);
    expect(C.parseMediateGrant(grant).routingDid).toBe(mediator.did);
  });

  it('refuses malformed bodies with ERR_INVALID_MESSAGE', () => {
    const m = (type: string, body: Record<string, unknown>): Message => ({ id: 'x', type, body: body as Message['body'] });
    const bad = expect.objectContaining({ code: 'ERR_INVALID_MESSAGE' });
    expect(() => C.parseKeylistUpdate(m(C.KEYLIST_UPDATE_TYPE, {}))).toThrow(bad);
    expect(() => C.parseKeylistUpdate(m(C.KEYLIST_UPDATE_TYPE, { updates: [{ recipient_did: device.did, action: 'replace' }] }))).toThrow(bad);
    expect(() => C.parseKeylistUpdate(m(C.KEYLIST_UPDATE_TYPE, { updates: [{ recipient_did: 'x', action: 'add' }] }))).toThrow(bad);
    expect(() => C.parseKeylistUpdate(m(C.KEYLIST_UPDATE_TYPE, { updates: new Array(C.MAX_KEYLIST_UPDATES + 1).fill({ recipient_did: device.did, action: 'add' }) }))).toThrow(bad);
    expect(() => C.parseKeylistQuery(m(C.KEYLIST_QUERY_TYPE, { paginate: { limit: 0, offset: 0 } }))).toThrow(bad);
    expect(() => C.parseKeylistQuery(m(C.KEYLIST_QUERY_TYPE, { paginate: { limit: 5 } }))).toThrow(bad);
    expect(() => C.parseMediateGrant(m(C.MEDIATE_GRANT_TYPE, {}))).toThrow(bad);
    expect(() => C.parseKeylistUpdateResponse(m(C.KEYLIST_UPDATE_RESPONSE_TYPE, { updated: [{ recipient_did: device.did, action: 'add', result: 'ok' }] }))).toThrow(bad);
    expect(() => C.parseKeylist(m(C.KEYLIST_TYPE, { keys: [{}] }))).toThrow(bad);
    expect(() => C.keylistUpdate('x', undefined, mediator.did, [{ recipientDid: 'nope', action: 'add' }])).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
  });
});
