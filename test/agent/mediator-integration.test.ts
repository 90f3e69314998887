/**
 * The agent against the project's real mediator (src/mediator: Mediator + RadioGateway on memory
 * stores) over an in-memory link, on virtual time: Coordinate Mediation 2.0, messages forwarded
 * to a mediated device and either pushed by the gateway or picked up with Message Pickup 3.0,
 * acks routed back through the mediator, each message handed to the application once.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { MemoryHub } from '../../transports/memory.js';
import type { Transport } from '../../transports/types.js';
import { err } from '../../src/errors.js';
import { Mediator } from '../../src/mediator/service.js';
import { RadioGateway } from '../../src/mediator/radio-gateway.js';
import { SecretsStore } from '../../src/did/secrets.js';
import { defaultCrypto } from '../../src/crypto/default.js';
import { MemoryMailboxStore } from '../../src/store/mailbox-memory.js';
import { MemoryMediationStore } from '../../src/store/mediation-memory.js';
import { MemoryKvStore } from '../../src/store/kv-memory.js';
import { drive, identities, makeAgent, resolverFor, until } from './helpers.js';

const NOTE = 'https://example.org/note/1.0/note';

async function world(pushMail: 'always' | 'live-only', wrap: (t: Transport) => Transport = (t) => t) {
  const clock = new ManualClock();
  const hub = new MemoryHub({ clock, mtu: 65536 });
  const [d, c, m] = identities(3);
  const known = [d!, c!, m!];
  const secrets = new SecretsStore();
  secrets.addFromJson(m!);
  const mailbox = new MemoryMailboxStore({ clock });
  const stores = { mailbox, mediation: new MemoryMediationStore({ clock }), kv: new MemoryKvStore(), close: async () => undefined };
  const errors: unknown[] = [];
  const mediator = await Mediator.create({ did: m!.did, ctx: { crypto: defaultCrypto, resolver: resolverFor(known), secrets }, stores, clock, onError: (e) => errors.push(e) });
  const gateway = new RadioGateway(mediator, { name: 'mem', transport: wrap(hub.attach('m')), clock, pushMail, onError: (e) => errors.push(e) });
  const device = makeAgent({ id: d!, clock, known, transport: hub.attach('d'), peers: { [m!.did]: 'm' } });
  const controller = makeAgent({ id: c!, clock, known, transport: hub.attach('c'), peers: { [m!.did]: 'm' }, peerConfigs: [{ did: d!.did, mediator: m!.did }] });
  const notes: number[] = [];
  device.handle(NOTE, (inb) => void notes.push(inb.message.body!.n as number));
  await device.start();
  await controller.start();
  await drive(clock, device.requestMediation(m!.did));
  await drive(clock, controller.requestMediation(m!.did));
  return { clock, d: d!, m: m!, mailbox, device, controller, notes, errors, gateway };
}

describe('agent with the real mediator', () => {
  it('grants mediation; queued messages are picked up in rounds, once each; acks come back through it', async () => {
    const w = await world('live-only');
    expect(await drive(w.clock, w.device.ping(w.m.did))).toBeGreaterThanOrEqual(0);
    for (let n = 1; n <= 5; n++) await w.controller.send({ type: NOTE, to: [w.d.did], body: { n } });
    await w.clock.advance(2000);
    expect(w.notes).toEqual([]); // queued at the mediator, the device has not asked yet
    const r = await drive(w.clock, w.device.sync({ limit: 2 }));
    expect(r.pickup).toMatchObject({ received: 5, remaining: 0, rounds: 3 });
    expect(w.notes.sort()).toEqual([1, 2, 3, 4, 5]);
    await drive(w.clock, w.controller.sync()); // the device's acks wait for the controller at the mediator
    await until(w.clock, () => w.controller.outbox.size === 0);
    expect(w.errors).toEqual([]);
  });

  it('mail pushed by the radio gateway right after the device transmitted is handled and acknowledged', async () => {
    const w = await world('always');
    for (let n = 1; n <= 3; n++) await w.controller.send({ type: NOTE, to: [w.d.did], body: { n } });
    await drive(w.clock, w.device.ping(w.m.did)); // an uplink: the gateway knows the device listens now
    await until(w.clock, () => w.notes.length === 3);
    expect(w.notes.sort()).toEqual([1, 2, 3]);
    await drive(w.clock, w.controller.sync());
    await until(w.clock, () => w.controller.outbox.size === 0);
  });

  it('a push the link refuses as busy (ERR_STORE_FULL) goes out a second later, while the device still listens', async () => {
    let refusals = 0;
    let armed = false;
    const busyOnce = (t: Transport): Transport =>
      new Proxy(t, {
        get(target, prop, receiver) {
          if (prop === 'send') {
            return (frame: Uint8Array, to?: string) => {
              if (armed && refusals === 0) {
                refusals++;
                return Promise.reject(err('ERR_STORE_FULL', '4 messages already in flight to this peer'));
              }
              return target.send(frame, to);
            };
          }
          const v = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    const w = await world('always', busyOnce);
    await drive(w.clock, w.device.ping(w.m.did)); // the device listens now
    const sentAt = w.clock.now();
    armed = true;
    await w.controller.send({ type: NOTE, to: [w.d.did], body: { n: 1 } });
    await until(w.clock, () => w.notes.length === 1, 30_000);
    expect(refusals).toBe(1);
    expect(w.gateway.stats.linkBusy).toBe(1);
    expect(w.clock.now() - sentAt).toBeLessThan(5000); // within the device's listen window, no new uplink needed
    expect(w.errors).toEqual([]);
  });

  it('a reply the link refuses as busy is sent again while the device listens: the ping is answered', async () => {
    let refusals = 0;
    const w = await world('always', (t: Transport): Transport => {
      const send = t.send.bind(t);
      t.send = (frame: Uint8Array, to?: string) => (refusals++ < 2 ? Promise.reject(err('ERR_STORE_FULL', 'link busy')) : send(frame, to));
      return t;
    });
    refusals = 0; // enrolment went through (its replies retried too); refuse the next two sends
    const busyBefore = w.gateway.stats.linkBusy;
    const rtt = await drive(w.clock, w.device.ping(w.m.did));
    expect(refusals).toBeGreaterThanOrEqual(3);
    expect(rtt).toBeGreaterThanOrEqual(2000);
    expect(w.gateway.stats.linkBusy - busyBefore).toBe(2);
    expect(w.errors).toEqual([]);
  });
});
