/**
 * Downlink priority at the radio gateway (`priorityDevices`): when the gateway's 1 % duty cycle is
 * the bottleneck, an actuator's command does not wait behind a sensor's queued mail. The same
 * scenario runs without and with the option, so the test shows the order the option changes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import * as C from '../../src/protocols/coordinate-mediation.js';
import * as P from '../../src/protocols/pickup.js';
import { ALWAYS_LISTENING } from '../../src/mediator/wake.js';
import { RadioGateway } from '../../src/mediator/radio-gateway.js';
import { forwardTo, kidOf, makeParty, memoryMediator, testSession } from './helpers.js';
import { loraRig, type LoraRig, type RadioDevice } from './radio-rig.js';

let rigs: LoraRig[] = [];
afterEach(async () => {
  for (const r of rigs) await r.close();
  rigs = [];
});

/** Deliveries in the order the two devices received them, as `sensor:<i>` / `actuator:<cmd>`. */
async function run(withPriority: boolean): Promise<{ order: string[]; rig: LoraRig }> {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const { mediator, party: med } = await memoryMediator({ clock });
  const sensor = makeParty();
  const actuator = makeParty();
  for (const p of [sensor, actuator]) await mediator.rememberPairwisePeer(p.did);
  const schedules = { [sensor.did]: ALWAYS_LISTENING, [actuator.did]: ALWAYS_LISTENING };
  const rig = await loraRig(mediator, clock, { gateway: { schedules, deliveryLimit: 1, ...(withPriority ? { priorityDevices: [actuator.did] } : {}) } });
  rigs.push(rig);
  const devs: RadioDevice[] = [await rig.addDevice(sensor, 7), await rig.addDevice(actuator, 8)];
  for (const [i, dev] of devs.entries()) {
    const p = dev.party;
    await dev.send(C.mediateRequest(p.id(), p.did, mediator.did));
    await rig.until(() => dev.inbox.length >= 1);
    await dev.send(C.keylistUpdate(p.id(), p.did, mediator.did, [{ recipientDid: p.did, action: 'add' }]));
    await rig.until(() => dev.inbox.length >= 2);
    expect(rig.gateway.addressOf(p.did)).toBe(String(7 + i));
  }
  // let the enrolment's airtime pay off, so the test starts on a free link
  await rig.until(() => rig.gwLink.sendDelay(1) === 0);

  const order: string[] = [];
  const seen = new Set<string>();
  const watch = (): boolean => {
    for (const [name, dev] of [['sensor', devs[0]!], ['actuator', devs[1]!]] as const) {
      for (const m of dev.inbox) {
        if (m.type !== P.DELIVERY_TYPE || seen.has(m.id)) continue;
        seen.add(m.id);
        for (const x of P.parseDelivery(m).messages) order.push(`${name}:${x.id}`);
      }
    }
    return false;
  };
  const controller = makeParty();
  const route = { did: med.did, kid: kidOf(med) };
  const labels = new Map<string, string>();
  const enqueue = async (to: typeof sensor, body: Record<string, unknown>, label: string): Promise<void> => {
    const f = await forwardTo(controller, to.did, route, body, 'compact');
    const r = await mediator.receive(f.bytes, testSession());
    expect(r.stored).toBe(true);
    const queued = await mediator.stores.mailbox.fetch(to.did, 100);
    labels.set(queued.at(-1)!.id, label);
  };
  // four acks for the sensor: the first goes at once and spends the budget, the rest must wait
  for (let i = 0; i < 4; i++) await enqueue(sensor, { ack: i }, `sensor-${i}`);
  await rig.until(() => (watch(), order.length >= 1), 600_000);
  // then a command for the actuator, while the sensor's mail waits for airtime
  await enqueue(actuator, { command: 'open-valve' }, 'command');
  await rig.until(() => (watch(), order.length >= 5), 3_600_000);
  return { order: order.map((o) => labels.get(o.split(':')[1]!) ?? o), rig };
}

describe('radio gateway downlink priority', () => {
  it('without it, the command queues behind the sensor mail already waiting; with it, the command goes next', async () => {
    const fifo = await run(false);
    expect(fifo.order[0]).toBe('sensor-0');
    expect(fifo.order.indexOf('command')).toBeGreaterThan(1);
    expect(fifo.rig.gateway.stats.yieldedToPriority).toBe(0);

    const prio = await run(true);
    expect(prio.order).toEqual(['sensor-0', 'command', 'sensor-1', 'sensor-2', 'sensor-3']);
    expect(prio.rig.gateway.stats.yieldedToPriority).toBeGreaterThan(0);
    for (const r of [fifo, prio]) {
      expect(r.rig.channel.stats().dutyCycleViolations).toBe(0);
      expect(r.rig.errors).toEqual([]);
    }
  }, 60_000);

  it('rejects a priorityDevices option that is not a list of DIDs', async () => {
    const { mediator } = await memoryMediator();
    const transport = { on: () => () => undefined } as unknown as ConstructorParameters<typeof RadioGateway>[1]['transport'];
    expect(() => new RadioGateway(mediator, { name: 'x', transport, priorityDevices: 'did:key:z' as unknown as string[] })).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
  });
});
