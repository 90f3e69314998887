/**
 * A LoRa rig for the mediator tests, on virtual time: the mediator's radio gateway (RYLR modem
 * emulator behind FragmentTransport) and compact devices (pairwise with the mediator) on one
 * simulated RadioChannel with the EU868 1 % duty cycle.
 */
import { ManualClock } from '../../src/util/clock.js';
import { unpack } from '../../src/envelope/index.js';
import type { Message } from '../../src/message/message.js';
import { RadioChannel } from '../../transports/lora/channel.js';
import { createSimulatedLoraRadio, type SimulatedLoraRadio } from '../../transports/lora/simulated.js';
import { FragmentTransport } from '../../transports/fragment/index.js';
import { RadioGateway, type RadioGatewayOptions } from '../../src/mediator/radio-gateway.js';
import type { Mediator } from '../../src/mediator/service.js';
import { packFor, type Party } from './helpers.js';

export const FRAGMENT_OPTIONS = { maxMessageSize: 4096, ackTimeoutMs: 15_000, maxRounds: 12, requestDelayMs: 500, reassemblyTimeoutMs: 120_000 };

export interface RadioDevice {
  party: Party;
  radio: SimulatedLoraRadio;
  link: FragmentTransport;
  /** Messages the device received (unpacked). */
  inbox: Message[];
  send(m: Message): Promise<void>;
}

export interface LoraRig {
  clock: ManualClock;
  channel: RadioChannel;
  gateway: RadioGateway;
  gwRadio: SimulatedLoraRadio;
  gwLink: FragmentTransport;
  devices: RadioDevice[];
  /** Background errors the gateway reported. */
  errors: unknown[];
  addDevice(party: Party, address: number): Promise<RadioDevice>;
  /** Runs virtual time until `done()` (throws after `maxMs`). */
  until(done: () => boolean, maxMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function loraRig(mediator: Mediator, clock: ManualClock, o: { sf?: 7 | 8 | 9 | 10 | 11; gateway?: Partial<RadioGatewayOptions>; fragment?: Partial<typeof FRAGMENT_OPTIONS> } = {}): Promise<LoraRig> {
  const fragment = { ...FRAGMENT_OPTIONS, ...o.fragment };
  const channel = new RadioChannel({ clock });
  const radio = { sf: o.sf ?? 7 };
  const gwRadio = await createSimulatedLoraRadio({ channel, modem: 'rylr', address: 1, radio, id: 'gateway' });
  const gwLink = new FragmentTransport(gwRadio.transport, { clock, ...fragment });
  const errors: unknown[] = [];
  const gateway = new RadioGateway(mediator, { name: 'lora', transport: gwLink, clock, onError: (e) => errors.push(e), ...o.gateway });
  const devices: RadioDevice[] = [];
  const rig: LoraRig = {
    errors,
    clock,
    channel,
    gateway,
    gwRadio,
    gwLink,
    devices,
    async addDevice(party, address) {
      const r = await createSimulatedLoraRadio({ channel, modem: 'rylr', address, radio, id: `device-${address}` });
      const link = new FragmentTransport(r.transport, { clock, ...fragment });
      const d: RadioDevice = {
        party,
        radio: r,
        link,
        inbox: [],
        send: async (m) => {
          const bytes = await packFor(party, mediator.did, m, 'compact', 'pairwise');
          let settled = false;
          let failure: unknown;
          link.send(bytes, '1').then(() => (settled = true), (e: unknown) => ((failure = e), (settled = true)));
          await rig.until(() => settled, 3_600_000);
          if (failure) throw failure;
        },
      };
      link.on('frame', (frame) => {
        void unpack(party.ctx, frame, { pairwise: party.pairwise }).then((u) => d.inbox.push(u.message), () => undefined);
      });
      devices.push(d);
      return d;
    },
    async until(done, maxMs = 3_600_000) {
      // small steps: the mediator's work between timers (store, crypto) must settle too
      for (let t = 0; t <= maxMs; t += 250) {
        if (done()) return;
        await clock.advance(250);
      }
      throw new Error('condition not reached in virtual time');
    },
    async close() {
      await gateway.close();
      for (const d of devices) await d.link.close();
      await gwLink.close();
    },
  };
  return rig;
}
