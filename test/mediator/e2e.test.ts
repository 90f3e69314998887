/**
 * End to end through the mediator:
 * - a standard agent (didcomm-node: `pack_encrypted(..., {forward: true})` with our mediator's key
 *   in the recipient's `routingKeys`) POSTs over HTTP; the recipient picks up later with pickup 3.0
 *   over HTTP with return_route, unpacks and acknowledges;
 * - a compact LoRa device (pairwise, simulated radio, virtual time) and an MQTT device (embedded
 *   broker, MQTT 3.1.1) reach each other through the mediator: live mode over MQTT one way, radio
 *   delivery in the device's listen window the other way.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HttpListener } from '../../transports/http/index.js';
import { MqttTransport } from '../../transports/mqtt/index.js';
import { inboxIdForDid } from '../../transports/mqtt/topics.js';
import { ManualClock } from '../../src/util/clock.js';
import { pack, unpack } from '../../src/envelope/index.js';
import type { Message } from '../../src/message/message.js';
import * as C from '../../src/protocols/coordinate-mediation.js';
import * as P from '../../src/protocols/pickup.js';
import { EMPTY_TYPE } from '../../src/protocols/empty.js';
import { forwardMessage, wrapInForwards } from '../../src/routing/forward.js';
import { mediatorHttpHook } from '../../src/mediator/listen-http.js';
import { MediatorMqttListener } from '../../src/mediator/listen-mqtt.js';
import { PeerMessage, peerResolvers } from '../helpers/didcomm-node.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../transports/mqtt/embedded-broker.js';
import { kidOf, makeParty, memoryMediator, packFor, type Party } from './helpers.js';
import { loraRig } from './radio-rig.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  cleanups.length = 0;
});

async function postDidcomm(url: string, body: Uint8Array): Promise<{ status: number; body: Uint8Array }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': body[0] === 0x7b ? 'application/didcomm-encrypted+json' : 'application/didcomm-compact' }, body });
  return { status: r.status, body: new Uint8Array(await r.arrayBuffer()) };
}

/** One pickup request over HTTP with return_route: the reply, unpacked. */
async function httpRequest(url: string, p: Party, mediatorDid: string, m: Message): Promise<Message> {
  const r = await postDidcomm(url, await packFor(p, mediatorDid, m, 'json', 'authcrypt'));
  expect(r.status).toBe(200);
  return (await unpack(p.ctx, r.body)).message;
}

const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('mediator end to end', () => {
  it('didcomm-node sends through our mediator over HTTP; the device picks up over HTTP with return_route', async () => {
    const { mediator, party: med } = await memoryMediator();
    const listener = await HttpListener.listen({ port: 0, host: '127.0.0.1', onRequest: mediatorHttpHook(mediator) });
    cleanups.push(() => listener.close());
    const url = listener.address!;
    const device = makeParty();
    // mediation over HTTP: mediate-request and keylist-update with return_route
    const grant = await httpRequest(url, device, mediator.did, C.mediateRequest(device.id(), device.did, mediator.did));
    expect(C.parseMediateGrant(grant).routingDid).toBe(mediator.did);
    const upd = await httpRequest(url, device, mediator.did, C.keylistUpdate(device.id(), device.did, mediator.did, [{ recipientDid: device.did, action: 'add' }]));
    expect(C.parseKeylistUpdateResponse(upd)[0]!.result).toBe('success');

    const alice = makeParty();
    const deviceDoc = { ...device.file.didDocument };
    const { didResolver, secretsResolver } = peerResolvers([alice.file.didDocument, med.file.didDocument, deviceDoc], alice.file.secrets);
    const resolver = {
      resolve: async (d: string) => {
        const doc = await didResolver.resolve(d);
        if (doc && d === device.did) doc.service = [{ id: `${device.did}#didcomm`, type: 'DIDCommMessaging', serviceEndpoint: { uri: url, accept: ['didcomm/v2'], routingKeys: [kidOf(med)] } }];
        return doc;
      },
    };
    const msg = { id: 'a1b2c3d4', typ: 'application/didcomm-plain+json', type: 'https://didcomm.org/basicmessage/2.0/message', from: alice.did, to: [device.did], created_time: Math.floor(Date.now() / 1000), body: { content: 'hello device' } };
    const [packed, meta] = await new PeerMessage(msg).pack_encrypted(device.did, alice.did, null, resolver, secretsResolver, { forward: true });
    expect(meta.messaging_service?.service_endpoint).toBe(url);
    const sent = await postDidcomm(meta.messaging_service.service_endpoint, new TextEncoder().encode(packed));
    expect(sent.status).toBe(202);

    const st = await httpRequest(url, device, mediator.did, P.statusRequest(device.id(), device.did, mediator.did));
    expect(P.parseStatus(st).messageCount).toBe(1);
    const d = P.parseDelivery(await httpRequest(url, device, mediator.did, P.deliveryRequest(device.id(), device.did, mediator.did, 10)));
    expect(d.messages).toHaveLength(1);
    const opened = await unpack(device.ctx, d.messages[0]!.bytes);
    expect(opened.message).toEqual(msg);
    expect(opened.meta.authenticated).toBe(true);
    const after = await httpRequest(url, device, mediator.did, P.messagesReceived(device.id(), device.did, mediator.did, [d.messages[0]!.id]));
    expect(P.parseStatus(after).messageCount).toBe(0);
  });

  it('a compact LoRa device and an MQTT device reach each other through the mediator', async () => {
    const clock = new ManualClock(Date.now());
    const { mediator, party: med } = await memoryMediator({ clock });
    const broker: EmbeddedBroker = await startEmbeddedBroker();
    cleanups.push(() => broker.close());
    const mqttListener = await MediatorMqttListener.start(mediator, { url: broker.url, protocolVersion: 4, clean: true });
    cleanups.push(() => mqttListener.close());

    const loraDevice = makeParty();
    const mqttDevice = makeParty();
    await mediator.rememberPairwisePeer(loraDevice.did);
    const rig = await loraRig(mediator, clock, { gateway: { listenAfterUplinkMs: 30_000 } });
    cleanups.push(() => rig.close());
    const dev = await rig.addDevice(loraDevice, 5);

    const mq = await MqttTransport.connect({ url: broker.url, did: mqttDevice.did, protocolVersion: 4, defaultTo: mqttListener.inbox });
    cleanups.push(() => mq.close());
    const mqInbox: Message[] = [];
    mq.on('frame', (f) => void unpack(mqttDevice.ctx, f).then((u) => mqInbox.push(u.message), () => undefined));
    const until = async (cond: () => boolean, what: string): Promise<void> => {
      for (let i = 0; i < 2000; i++) {
        if (cond()) return;
        await clock.advance(250);
        await realSleep(2);
      }
      throw new Error(`timed out waiting for ${what}`);
    };
    const mqSend = async (m: Message): Promise<void> => mq.send(await packFor(mqttDevice, mediator.did, m, 'compact', 'authcrypt'));

    // both enrol, each over its own link
    await mqSend(C.mediateRequest(mqttDevice.id(), mqttDevice.did, mediator.did));
    await until(() => mqInbox.some((m) => m.type === C.MEDIATE_GRANT_TYPE), 'MQTT grant');
    await mqSend(C.keylistUpdate(mqttDevice.id(), mqttDevice.did, mediator.did, [{ recipientDid: mqttDevice.did, action: 'add' }]));
    await until(() => mqInbox.some((m) => m.type === C.KEYLIST_UPDATE_RESPONSE_TYPE), 'MQTT keylist');
    await mqSend(P.liveDeliveryChange(mqttDevice.id(), mqttDevice.did, mediator.did, true));
    await until(() => mqInbox.some((m) => m.type === P.STATUS_TYPE && P.parseStatus(m).liveDelivery === true), 'MQTT live mode');
    await dev.send(C.mediateRequest(loraDevice.id(), loraDevice.did, mediator.did));
    await until(() => dev.inbox.some((m) => m.type === C.MEDIATE_GRANT_TYPE), 'LoRa grant');
    await dev.send(C.keylistUpdate(loraDevice.id(), loraDevice.did, mediator.did, [{ recipientDid: loraDevice.did, action: 'add' }]));
    await until(() => dev.inbox.some((m) => m.type === C.KEYLIST_UPDATE_RESPONSE_TYPE), 'LoRa keylist');

    // LoRa → MQTT: the device sends the forward itself (pairwise, asking for a receipt)
    const toMq: Message = { id: loraDevice.id(), type: 'https://didcomm.org/telemetry/1.0/report', from: loraDevice.did, to: [mqttDevice.did], body: { temp: 19.5 } };
    const innerToMq = (await pack(loraDevice.ctx, toMq, { mode: 'authcrypt', format: 'compact', to: [mqttDevice.did], from: loraDevice.did })).bytes;
    const fwd = { ...forwardMessage(loraDevice.ctx, mqttDevice.did, innerToMq), from: loraDevice.did, to: [mediator.did], return_route: 'all' as const };
    await dev.send(fwd);
    await until(() => dev.inbox.some((m) => m.type === EMPTY_TYPE && m.ack?.includes(fwd.id) === true), 'radio receipt');
    await until(() => mqInbox.some((m) => m.type === P.DELIVERY_TYPE), 'live delivery over MQTT');
    const live = P.parseDelivery(mqInbox.find((m) => m.type === P.DELIVERY_TYPE)!);
    expect((await unpack(mqttDevice.ctx, live.messages[0]!.bytes)).message).toEqual(toMq);
    await mqSend(P.messagesReceived(mqttDevice.id(), mqttDevice.did, mediator.did, live.messages.map((m) => m.id)));
    await until(() => mqInbox.filter((m) => m.type === P.STATUS_TYPE).some((m) => P.parseStatus(m).messageCount === 0 && m.thid !== undefined), 'MQTT ack');

    // MQTT → LoRa: an anoncrypted forward published to the mediator's inbox (PUBACK once stored)
    const toLora: Message = { id: mqttDevice.id(), type: 'https://didcomm.org/command/1.0/request', from: mqttDevice.did, to: [loraDevice.did], body: { command: 'open' } };
    const innerToLora = (await pack(mqttDevice.ctx, toLora, { mode: 'authcrypt', format: 'compact', to: [loraDevice.did], from: mqttDevice.did })).bytes;
    await mq.send(await wrapInForwards(mqttDevice.ctx, innerToLora, { recipient: loraDevice.did, routingKeys: [kidOf(med)] }));
    // the sender's PUBACK comes from the broker; the mediator acknowledges the broker once stored
    let queued = 0;
    await until(() => {
      void mediator.stores.mailbox.status(loraDevice.did).then((s) => (queued = s.messageCount));
      return queued === 1;
    }, 'the forward stored');
    // the LoRa device wakes up and says something: its mail follows in its listen window
    await dev.send(P.statusRequest(loraDevice.id(), loraDevice.did, mediator.did));
    await until(() => dev.inbox.some((m) => m.type === P.DELIVERY_TYPE), 'radio delivery');
    const radioDelivery = P.parseDelivery(dev.inbox.find((m) => m.type === P.DELIVERY_TYPE)!);
    expect((await unpack(loraDevice.ctx, radioDelivery.messages[0]!.bytes)).message).toEqual(toLora);
    expect(rig.channel.stats().dutyCycleViolations).toBe(0);
    expect(inboxIdForDid(mqttDevice.did)).toBe(mq.address);
  }, 30_000);
});

