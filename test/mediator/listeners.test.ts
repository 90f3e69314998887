/**
 * Mediator listeners on real transports: WebSocket (return_route once per connection, live mode
 * pushes, live mode ends with the connection) and a BLE NUS link (in-memory, 20-byte packets,
 * fragmented) through a radio gateway.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WsClient, WsListener } from '../../transports/ws/index.js';
import { BleNusTransport, createInMemoryBlePair } from '../../transports/ble/index.js';
import { FragmentTransport } from '../../transports/fragment/index.js';
import { ManualClock } from '../../src/util/clock.js';
import { unpack } from '../../src/envelope/index.js';
import type { Message } from '../../src/message/message.js';
import * as C from '../../src/protocols/coordinate-mediation.js';
import * as P from '../../src/protocols/pickup.js';
import { attachWsListener } from '../../src/mediator/listen-ws.js';
import { RadioGateway } from '../../src/mediator/radio-gateway.js';
import { enroll, forwardTo, kidOf, makeParty, memoryMediator, packFor, testSession } from './helpers.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

async function eventually(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('mediator listeners', () => {
  it('WebSocket: return_route set once per connection, live deliveries pushed, live mode ends with the socket', async () => {
    const { mediator, party: med } = await memoryMediator();
    const listener = await WsListener.listen({ port: 0, host: '127.0.0.1', heartbeatMs: 0 });
    cleanups.push(() => listener.close());
    cleanups.push(attachWsListener(mediator, listener));
    const device = makeParty();
    await enroll(mediator, device);
    const client = await WsClient.connect({ url: `ws://127.0.0.1:${listener.port}/` });
    cleanups.push(() => client.close());
    const got: Message[] = [];
    client.on('frame', (f) => void unpack(device.ctx, f).then((u) => got.push(u.message)));
    await client.send(await packFor(device, mediator.did, P.liveDeliveryChange(device.id(), device.did, mediator.did, true), 'json', 'authcrypt'));
    await eventually(() => got.length === 1, 'status');
    expect(P.parseStatus(got[0]!).liveDelivery).toBe(true);
    // no return_route on this one: the connection already asked for it
    const q = { ...P.statusRequest(device.id(), device.did, mediator.did) };
    delete q.return_route;
    await client.send(await packFor(device, mediator.did, q, 'json', 'authcrypt'));
    await eventually(() => got.length === 2, 'status without return_route');

    const f = await forwardTo(makeParty(), device.did, { did: med.did, kid: kidOf(med) }, { live: true }, 'compact');
    expect((await mediator.receive(f.bytes, testSession({ kind: 'http', persistent: false }))).stored).toBe(true);
    await eventually(() => got.some((m) => m.type === P.DELIVERY_TYPE), 'live delivery');
    expect(P.parseDelivery(got.find((m) => m.type === P.DELIVERY_TYPE)!).messages[0]!.bytes).toEqual(f.inner);
    expect(mediator.live.size).toBe(1);
    await client.close();
    await eventually(() => mediator.live.size === 0, 'live mode dropped with the connection');
  });

  it('BLE (NUS, 20-byte packets, fragmented): a device enrols and gets its mail right after it speaks', async () => {
    const clock = new ManualClock();
    const { mediator, party: med } = await memoryMediator({ clock });
    const device = makeParty();
    await mediator.rememberPairwisePeer(device.did);
    const pair = createInMemoryBlePair({ clock });
    const gwLink = new FragmentTransport(new BleNusTransport(pair.central), { clock });
    const devLink = new FragmentTransport(new BleNusTransport(pair.peripheral), { clock });
    const gateway = new RadioGateway(mediator, { name: 'ble', transport: gwLink, clock, listenAfterUplinkMs: 10_000 });
    cleanups.push(async () => {
      await gateway.close();
      await gwLink.close();
      await devLink.close();
    });
    const inbox: Message[] = [];
    devLink.on('frame', (f) => void unpack(device.ctx, f, { pairwise: device.pairwise }).then((u) => inbox.push(u.message)));
    const send = async (m: Message): Promise<void> => {
      let done = false;
      devLink.send(await packFor(device, mediator.did, m, 'compact', 'pairwise')).then(() => (done = true));
      await clock.runUntilDone(() => done, 60_000);
    };
    const settle = async (cond: () => boolean): Promise<void> => {
      for (let i = 0; i < 400 && !cond(); i++) await clock.advance(50);
      expect(cond()).toBe(true);
    };
    await send(C.mediateRequest(device.id(), device.did, mediator.did));
    await settle(() => inbox.length === 1);
    await send(C.keylistUpdate(device.id(), device.did, mediator.did, [{ recipientDid: device.did, action: 'add' }]));
    await settle(() => inbox.length === 2);
    expect(gateway.addressOf(device.did)).toBe('peripheral');
    const f = await forwardTo(makeParty(), device.did, { did: med.did, kid: kidOf(med) }, { over: 'ble' }, 'compact');
    await mediator.receive(f.bytes, testSession());
    // the device listens for 10 s after speaking: mail goes at once
    await settle(() => inbox.some((m) => m.type === P.DELIVERY_TYPE));
    expect(P.parseDelivery(inbox.find((m) => m.type === P.DELIVERY_TYPE)!).messages[0]!.bytes).toEqual(f.inner);
    expect(gateway.stats.deliveries).toBe(1);
  });
});
