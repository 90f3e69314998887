/**
 * Sync by radio (src/agent/sync.ts): Coordinate Mediation 2.0 and Message Pickup 3.0 client
 * against a minimal in-test mediator — messages queued while a device was away are picked up in
 * rounds, each handed to the application once (also when the mediator delivers it again), within
 * a duty-cycled link's budget; live mode only on persistent links.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { MemoryHub } from '../../transports/memory.js';
import { codeOf, drive, identities, makeAgent, until } from './helpers.js';
import { fakeMediator } from './fake-mediator.js';
import { err } from '../../src/errors.js';

const NOTE = 'https://example.org/note/1.0/note';

async function setup(o: { dutyCycleMs?: number; persistent?: boolean } = {}) {
  const clock = new ManualClock();
  const hub = new MemoryHub({ clock, mtu: 65536, ...(o.dutyCycleMs ? { dutyCycle: { perFrameMs: o.dutyCycleMs } } : {}) });
  const [d, c, m] = identities(3);
  const known = [d!, c!, m!];
  const med = fakeMediator(hub, m!, known, { [d!.did]: 'd', [c!.did]: 'c' });
  const device = makeAgent({ id: d!, clock, known, transport: hub.attach('d'), peers: { [m!.did]: 'm' }, link: { persistent: o.persistent ?? false } });
  const controller = makeAgent({ id: c!, clock, known, transport: hub.attach('c'), peers: { [m!.did]: 'm' }, peerConfigs: [{ did: d!.did, mediator: m!.did }] });
  const notes: number[] = [];
  device.handle(NOTE, (inb) => void notes.push(inb.message.body!.n as number));
  await device.start();
  await controller.start();
  return { clock, hub, d: d!, c: c!, m: m!, med, device, controller, notes };
}

describe('mediation and pickup client', () => {
  it('requests mediation, then picks up queued messages in rounds, each once; acks flow back through the mediator', async () => {
    const w = await setup();
    const grant = await drive(w.clock, w.device.requestMediation(w.m.did));
    expect(grant.routingDid).toBe(w.m.did);
    expect(w.med.keylist.has(w.d.did)).toBe(true);
    for (let n = 1; n <= 12; n++) await w.controller.send({ type: NOTE, to: [w.d.did], body: { n } });
    await w.clock.advance(1000);
    expect(w.med.mailbox.get(w.d.did)).toHaveLength(12);
    expect(w.notes).toEqual([]);
    w.med.ignoreReceived = 1; // one messages-received is lost: those 5 come again
    const r = await drive(w.clock, w.device.sync({ limit: 5 }));
    expect(r.pickup!.remaining).toBe(0);
    expect(r.pickup!.received).toBe(17);
    expect(w.notes.sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(w.med.mailbox.get(w.d.did)).toEqual([]);
    // the device's acks went back through the mediator: the controller's outbox is done
    await until(w.clock, () => w.controller.outbox.size === 0);
    expect((w.device.stats() as { inbound: { replays: number } }).inbound.replays).toBe(5);
  });

  it('stays within a duty-cycled link budget: waits, never fails with ERR_DUTY_CYCLE', async () => {
    const w = await setup({ dutyCycleMs: 20_000 });
    await drive(w.clock, w.device.requestMediation(w.m.did));
    for (let n = 1; n <= 4; n++) await w.controller.send({ type: NOTE, to: [w.d.did], body: { n } });
    await w.clock.advance(200_000);
    // the controller kept retrying while the device was away: retries are queued too
    const queued = w.med.mailbox.get(w.d.did)!.length;
    expect(queued).toBeGreaterThan(4);
    await w.controller.stop(); // no more retries once the sync starts (frames already on their way still arrive)
    const t0 = w.clock.now();
    const r = await drive(w.clock, w.device.sync({ limit: 2 }));
    expect(r.pickup!.remaining).toBe(0);
    expect(r.pickup!.received).toBeGreaterThanOrEqual(queued);
    expect(w.notes.sort()).toEqual([1, 2, 3, 4]);
    const links = (w.device.stats() as { links: Record<string, { dutyWaits: number }> }).links;
    expect(Object.values(links)[0]!.dutyWaits).toBeGreaterThan(0);
    // every request waited for the device's own airtime: status + (delivery + received) per round
    expect(w.clock.now() - t0).toBeGreaterThanOrEqual(Math.ceil(queued / 2) * 2 * 20_000);
  });

  it('live mode: refused on a non-persistent link, pushed deliveries handled and acknowledged on a persistent one', async () => {
    const radio = await setup();
    await drive(radio.clock, radio.device.requestMediation(radio.m.did));
    expect(await codeOf(radio.device.setLiveDelivery(true))).toBe('ERR_UNSUPPORTED'); // not even asked
    const w = await setup({ persistent: true });
    await drive(w.clock, w.device.requestMediation(w.m.did));
    // the mediator does not see a persistent connection: e.m.live-mode-not-supported
    expect(await codeOf(drive(w.clock, w.device.setLiveDelivery(true)))).toBe('ERR_REFUSED');
    w.med.persistent.add('d');
    expect(await drive(w.clock, w.device.setLiveDelivery(true))).toBe(true);
    await w.controller.send({ type: NOTE, to: [w.d.did], body: { n: 42 } });
    await until(w.clock, () => w.notes.length === 1 && (w.med.mailbox.get(w.d.did) ?? []).length === 0);
    expect(w.notes).toEqual([42]);
    expect(w.med.log).toContain('messages-received');
  });

  it('a request whose frame the link gave up on (ERR_TIMEOUT) is sent again; a link error that cannot heal ends it', async () => {
    const w = await setup();
    const t = w.hub.attach('d2');
    let failNext: string | undefined;
    const send = t.send.bind(t);
    t.send = (frame: Uint8Array, to?: string) => {
      const code = failNext;
      failNext = undefined;
      return code ? Promise.reject(err(code as 'ERR_TIMEOUT', 'link gave up')) : send(frame, to);
    };
    failNext = 'ERR_TIMEOUT';
    const dev = makeAgent({ id: w.d, clock: w.clock, known: [w.d, w.c, w.m], transport: t, peers: { [w.m.did]: 'm' } });
    await dev.start();
    expect((await drive(w.clock, dev.requestMediation(w.m.did))).routingDid).toBe(w.m.did);
    expect(failNext).toBeUndefined(); // the failure was consumed, and the retry got through
    failNext = 'ERR_TOO_LARGE';
    expect(await codeOf(drive(w.clock, dev.sync()))).toBe('ERR_TOO_LARGE');
    await dev.stop();
  });

  it('a denied mediation request rejects with ERR_REFUSED', async () => {
    const w = await setup();
    w.med.deny = true;
    expect(await codeOf(drive(w.clock, w.device.requestMediation(w.m.did)))).toBe('ERR_REFUSED');
  });
});
