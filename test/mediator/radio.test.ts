/**
 * The radio gateway on a simulated LoRa channel (RYLR emulators, EU868 1 % duty cycle, virtual
 * time): a compact device enrols and picks up over the air, its link address is learned from its
 * frames, mail is pushed only while it listens and only within the airtime budget, nothing is
 * dropped, and the channel never sees a duty-cycle violation.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import type { Message } from '../../src/message/message.js';
import { unpack } from '../../src/envelope/index.js';
import * as C from '../../src/protocols/coordinate-mediation.js';
import * as P from '../../src/protocols/pickup.js';
import { forwardTo, kidOf, makeParty, memoryMediator, testSession } from './helpers.js';
import { loraRig, type LoraRig } from './radio-rig.js';

let rigs: LoraRig[] = [];
afterEach(async () => {
  for (const r of rigs) await r.close();
  rigs = [];
});

describe('radio gateway', () => {
  it('a pairwise device enrols over LoRa, then gets mail only in its wake window, and acknowledges it', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 0, 0));
    const { mediator, party: med } = await memoryMediator({ clock });
    const device = makeParty();
    await mediator.rememberPairwisePeer(device.did); // provisioned
    const rig = await loraRig(mediator, clock, { gateway: { schedules: { [device.did]: { periodMs: 600_000, windowMs: 60_000, phaseMs: 300_000 } }, listenAfterUplinkMs: 20_000 } });
    rigs.push(rig);
    const dev = await rig.addDevice(device, 7);

    await dev.send(C.mediateRequest(device.id(), device.did, mediator.did));
    await rig.until(() => dev.inbox.length >= 1);
    expect(C.parseMediateGrant(dev.inbox[0]!).routingDid).toBe(mediator.did);
    expect(rig.gateway.addressOf(device.did)).toBe('7');
    await dev.send(C.keylistUpdate(device.id(), device.did, mediator.did, [{ recipientDid: device.did, action: 'add' }]));
    await rig.until(() => dev.inbox.length >= 2);
    expect(C.parseKeylistUpdateResponse(dev.inbox[1]!)[0]!.result).toBe('success');

    // the device's listen window after its last uplink has passed: mail waits
    await clock.advance(30_000);
    const sender = makeParty();
    const f = await forwardTo(sender, device.did, { did: med.did, kid: kidOf(med) }, { cmd: 'open' }, 'compact');
    expect((await mediator.receive(f.bytes, testSession())).stored).toBe(true);
    const arrivedAt = clock.now();
    await rig.until(() => dev.inbox.length >= 3);
    const windowStart = Date.UTC(2026, 0, 1, 0, 5, 0);
    expect(arrivedAt).toBeLessThan(windowStart);
    expect(clock.now()).toBeGreaterThanOrEqual(windowStart);
    expect(rig.gateway.stats.deferredAsleep).toBeGreaterThan(0);

    const d = P.parseDelivery(dev.inbox[2]!);
    expect(d.messages.map((m) => m.bytes)).toEqual([f.inner]);
    expect((await unpack(device.ctx, d.messages[0]!.bytes)).message).toEqual(f.message);
    // still queued until the device acknowledges it
    expect((await mediator.stores.mailbox.status(device.did)).messageCount).toBe(1);
    await dev.send(P.messagesReceived(device.id(), device.did, mediator.did, [d.messages[0]!.id]));
    await rig.until(() => dev.inbox.length >= 4);
    expect(P.parseStatus(dev.inbox[3]!).messageCount).toBe(0);
    expect((await mediator.stores.mailbox.status(device.did)).messageCount).toBe(0);

    // Acknowledging a pushed delivery (messages-received threaded to it) costs no status downlink.
    const f2 = await forwardTo(sender, device.did, { did: med.did, kid: kidOf(med) }, { cmd: 'close' }, 'compact');
    expect((await mediator.receive(f2.bytes, testSession())).stored).toBe(true);
    await rig.until(() => dev.inbox.length >= 5, 3_600_000);
    const pushed = dev.inbox[4]!;
    const ack = P.messagesReceived(device.id(), device.did, mediator.did, P.parseDelivery(pushed).messages.map((m) => m.id));
    ack.thid = pushed.id;
    const repliesBefore = rig.gateway.stats.repliesSent;
    await dev.send(ack);
    await clock.advance(120_000);
    expect((await mediator.stores.mailbox.status(device.did)).messageCount).toBe(0);
    expect(rig.gateway.stats.repliesSent).toBe(repliesBefore);
    expect(dev.inbox).toHaveLength(5);
    expect(rig.channel.stats().dutyCycleViolations).toBe(0);
    expect(rig.errors).toEqual([]);
  });

  it('at SF11 a delivery that would outlast the listen window waits for airtime, never breaks the duty cycle, never drops mail', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const { mediator, party: med } = await memoryMediator({ clock });
    const device = makeParty();
    await mediator.rememberPairwisePeer(device.did);
    const rig = await loraRig(mediator, clock, { sf: 11, fragment: { ackTimeoutMs: 200_000, maxRounds: 12, reassemblyTimeoutMs: 1_200_000 }, gateway: { schedules: { [device.did]: { periodMs: 900_000, windowMs: 480_000 } }, listenAfterUplinkMs: 10_000, deliveryLimit: 3 } });
    rigs.push(rig);
    const dev = await rig.addDevice(device, 9);
    // a reply the gateway cannot get on the air while the device listens is dropped: devices retry
    const request = async (m: Message): Promise<Message> => {
      for (let attempt = 0; attempt < 10; attempt++) {
        await dev.send(m);
        try {
          await rig.until(() => dev.inbox.some((r) => r.thid === m.id), 300_000);
          return dev.inbox.find((r) => r.thid === m.id)!;
        } catch {
          // no answer in this window: try again
        }
      }
      throw new Error('no reply');
    };
    await request(C.mediateRequest(device.id(), device.did, mediator.did));
    const upd = await request(C.keylistUpdate(device.id(), device.did, mediator.did, [{ recipientDid: device.did, action: 'add' }]));
    expect(['success', 'no_change']).toContain(C.parseKeylistUpdateResponse(upd).at(0)!.result);

    const sender = makeParty();
    const sent = [];
    for (let i = 0; i < 4; i++) {
      const f = await forwardTo(sender, device.did, { did: med.did, kid: kidOf(med) }, { i, pad: 'x'.repeat(20) }, 'compact');
      expect((await mediator.receive(f.bytes, testSession())).stored).toBe(true);
      sent.push(f.inner);
    }
    const received: Uint8Array[] = [];
    const acked = new Set<string>();
    const ackAll = async (): Promise<void> => {
      const ids: string[] = [];
      for (const m of dev.inbox) {
        if (m.type !== P.DELIVERY_TYPE) continue;
        for (const x of P.parseDelivery(m).messages) {
          if (acked.has(x.id)) continue;
          acked.add(x.id);
          ids.push(x.id);
          received.push(x.bytes);
        }
      }
      if (ids.length > 0) await request(P.messagesReceived(device.id(), device.did, mediator.did, ids));
    };
    for (let round = 0; round < 12 && received.length < sent.length; round++) {
      await rig.until(() => dev.inbox.some((m) => m.type === P.DELIVERY_TYPE && P.parseDelivery(m).messages.some((x) => !acked.has(x.id))), 10 * 3_600_000);
      await ackAll();
    }
    expect(received).toEqual(sent);
    expect((await mediator.stores.mailbox.status(device.did)).messageCount).toBe(0);
    expect(rig.gateway.stats.deferredAirtime + rig.gateway.stats.deferredAsleep).toBeGreaterThan(0);
    expect(rig.channel.stats().dutyCycleViolations).toBe(0);
    expect(rig.errors).toEqual([]);
  }, 60_000);
});
