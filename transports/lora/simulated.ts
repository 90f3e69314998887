/**
 * Builds simulated LoRa radios in a few lines: a modem driver (the `Transport` the agent uses),
 * wired through an in-memory UART to an emulator of that modem, which is one radio on a shared
 * `RadioChannel`. For the field simulation and agent tests:
 *
 *   const channel = new RadioChannel({ clock });
 *   const a = await createSimulatedLoraRadio({ channel, modem: 'rylr', address: 1 });
 *   const b = await createSimulatedLoraRadio({ channel, modem: 'rylr', address: 2 });
 *   await a.transport.send(frame, b.transport.address);
 *
 * Drivers and emulators share the channel's clock and duty-cycle rules unless told otherwise.
 * The emulator and the channel radio are returned for statistics and fault injection.
 */
import { err } from '../../src/errors.js';
import type { Clock } from '../../src/util/clock.js';
import { createSerialPair, type MemorySerialEnd, type SerialPairOptions } from '../serial/memory-pair.js';
import type { LoraRadioSettings } from './airtime.js';
import type { ChannelRadio, RadioChannel } from './channel.js';
import type { BandPlan } from './duty-cycle.js';
import { EbyteEmulator } from './emulators/ebyte.js';
import type { ModemEmulator } from './emulators/emulator-base.js';
import { Rak3172Emulator } from './emulators/rak3172.js';
import { Rn2483Emulator } from './emulators/rn2483.js';
import { RylrEmulator } from './emulators/rylr.js';
import type { LoraLinkBase } from './link-base.js';
import { Rak3172Modem } from './rak3172.js';
import { Rn2483Modem } from './rn2483.js';
import { RylrModem } from './rylr.js';
import { TransparentModem } from './transparent.js';

export const LORA_MODEM_KINDS = ['rylr', 'rylr896', 'rn2483', 'rn2903', 'rak3172', 'e22', 'e32'] as const;
export type LoraModemKind = (typeof LORA_MODEM_KINDS)[number];

export interface SimulatedLoraRadioOptions {
  channel: RadioChannel;
  modem: LoraModemKind;
  /** RYLR link address 1..65535 (required for rylr/rylr896; others are broadcast-only). */
  address?: number;
  /** Radio id on the channel (default `<modem>-<address or sequence number>`). */
  id?: string;
  /** Default: the channel's clock. */
  clock?: Clock;
  /** Carrier and modulation (RN2903 defaults to 915 MHz). */
  radio?: Partial<LoraRadioSettings>;
  /** RYLR AT+NETWORKID (default 18). */
  networkId?: number;
  commandTimeoutMs?: number;
  /** Default: the channel's duty-cycle options. */
  bandPlan?: BandPlan;
  dutyCycle?: number;
  /** In-memory UART fault hooks (split reads). */
  serial?: SerialPairOptions;
}

export interface SimulatedLoraRadio {
  transport: LoraLinkBase;
  emulator: ModemEmulator;
  radio: ChannelRadio;
  /** Driver side of the UART (inject garbage towards the modem with `inject`). */
  hostPort: MemorySerialEnd;
  /** Modem side of the UART (inject garbage towards the driver with `inject`). */
  modemPort: MemorySerialEnd;
  /** Closes the driver and removes the radio from the channel. */
  close(): Promise<void>;
}

let sequence = 0;

export async function createSimulatedLoraRadio(options: SimulatedLoraRadioOptions): Promise<SimulatedLoraRadio> {
  const { channel, modem } = options;
  if (!(LORA_MODEM_KINDS as readonly string[]).includes(modem)) {
    throw err('ERR_ARGUMENT', `modem: expected one of ${LORA_MODEM_KINDS.join(', ')}`);
  }
  const isRylr = modem === 'rylr' || modem === 'rylr896';
  if (isRylr && options.address === undefined) throw err('ERR_ARGUMENT', 'address: required for RYLR modems');
  const clock = options.clock ?? channel.clock;
  const radioSettings: Partial<LoraRadioSettings> = {
    ...(modem === 'rn2903' ? { frequencyHz: 915_000_000 } : {}),
    ...options.radio,
  };
  const id = options.id ?? `${modem}-${options.address ?? ++sequence}`;
  const [hostPort, modemPort] = createSerialPair(options.serial);
  const dutyOptions = {
    bandPlan: options.bandPlan ?? channel.dutyCycleOptions.bandPlan,
    dutyCycle: options.dutyCycle ?? channel.dutyCycleOptions.dutyCycle,
  };
  const emulatorBase = { port: modemPort, channel, id, radio: radioSettings };
  const driverBase = {
    port: hostPort,
    clock,
    radio: radioSettings,
    commandTimeoutMs: options.commandTimeoutMs,
    ...dutyOptions,
  };
  let emulator: ModemEmulator;
  let transport: LoraLinkBase;
  try {
    switch (modem) {
      case 'rylr':
      case 'rylr896':
        emulator = new RylrEmulator({ ...emulatorBase, variant: modem === 'rylr' ? 'rylr998' : 'rylr896' });
        transport = await RylrModem.open({ ...driverBase, address: options.address!, networkId: options.networkId ?? (modem === 'rylr' ? 18 : 0) });
        break;
      case 'rn2483':
      case 'rn2903':
        emulator = new Rn2483Emulator({ ...emulatorBase, variant: modem });
        transport = await Rn2483Modem.open({ ...driverBase, variant: modem });
        break;
      case 'rak3172':
        emulator = new Rak3172Emulator(emulatorBase);
        transport = await Rak3172Modem.open(driverBase);
        break;
      case 'e22':
      case 'e32':
        emulator = new EbyteEmulator({ ...emulatorBase, model: modem });
        transport = await TransparentModem.open({ ...driverBase, model: modem });
        break;
    }
  } catch (e) {
    channel.radio(id)?.leave();
    throw e;
  }
  const em = emulator;
  const tr = transport;
  return {
    transport: tr,
    emulator: em,
    radio: em.radio,
    hostPort,
    modemPort,
    async close() {
      await tr.close();
      em.close();
      modemPort.close();
    },
  };
}
