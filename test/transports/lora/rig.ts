/**
 * Test rig: driver ↔ SerialPortMock ↔ emulator ↔ channel, for each modem kind, on a ManualClock.
 */
import { ManualClock } from '../../../src/util/clock.js';
import type { DidcommError } from '../../../src/errors.js';
import type { LoraRadioSettings } from '../../../transports/lora/airtime.js';
import { RadioChannel, type RadioChannelOptions } from '../../../transports/lora/channel.js';
import { EbyteEmulator } from '../../../transports/lora/emulators/ebyte.js';
import type { AtModemEmulator, ModemEmulator } from '../../../transports/lora/emulators/emulator-base.js';
import { Rak3172Emulator } from '../../../transports/lora/emulators/rak3172.js';
import { Rn2483Emulator } from '../../../transports/lora/emulators/rn2483.js';
import { RylrEmulator } from '../../../transports/lora/emulators/rylr.js';
import type { LoraLinkBase } from '../../../transports/lora/link-base.js';
import { Rak3172Modem } from '../../../transports/lora/rak3172.js';
import { Rn2483Modem } from '../../../transports/lora/rn2483.js';
import { RylrModem } from '../../../transports/lora/rylr.js';
import { TransparentModem } from '../../../transports/lora/transparent.js';
import type { SerialDuplex } from '../../../transports/serial/types.js';
import { openMockSerial, type MockModemSide } from './serial-mock.js';

export type DriverKind = 'rylr' | 'rn2483' | 'rak3172' | 'e22' | 'e32';
export const DRIVER_KINDS: DriverKind[] = ['rylr', 'rn2483', 'rak3172', 'e22', 'e32'];

export interface RigNode {
  driver: LoraLinkBase;
  emulator: ModemEmulator;
  modemSide: MockModemSide;
}

export interface Rig {
  clock: ManualClock;
  channel: RadioChannel;
  violations: DidcommError[];
  nodes: RigNode[];
}

export interface RigOptions {
  channel?: Partial<RadioChannelOptions>;
  radio?: Partial<LoraRadioSettings>;
  dutyCycle?: number;
  commandTimeoutMs?: number;
  count?: number;
}

export function buildEmulator(kind: DriverKind, port: MockModemSide, channel: RadioChannel, id: string, radio?: Partial<LoraRadioSettings>): ModemEmulator {
  switch (kind) {
    case 'rylr':
      return new RylrEmulator({ port, channel, id, radio });
    case 'rn2483':
      return new Rn2483Emulator({ port, channel, id, radio });
    case 'rak3172':
      return new Rak3172Emulator({ port, channel, id, radio });
    case 'e22':
    case 'e32':
      return new EbyteEmulator({ port, channel, id, radio, model: kind });
  }
}

export async function openDriver(
  kind: DriverKind,
  port: SerialDuplex,
  clock: ManualClock,
  index: number,
  options: RigOptions = {},
): Promise<LoraLinkBase> {
  const base = { port, clock, radio: options.radio, dutyCycle: options.dutyCycle, commandTimeoutMs: options.commandTimeoutMs };
  switch (kind) {
    case 'rylr':
      return RylrModem.open({ ...base, address: index + 1 });
    case 'rn2483':
      return Rn2483Modem.open(base);
    case 'rak3172':
      return Rak3172Modem.open(base);
    case 'e22':
    case 'e32':
      return TransparentModem.open({ ...base, model: kind });
  }
}

export async function buildRig(kind: DriverKind, options: RigOptions = {}): Promise<Rig> {
  const clock = new ManualClock();
  const channel = new RadioChannel({ clock, dutyCycle: options.dutyCycle, ...options.channel });
  const violations: DidcommError[] = [];
  channel.on('violation', (v) => violations.push(v.error));
  const nodes: RigNode[] = [];
  for (let i = 0; i < (options.count ?? 2); i++) {
    const { host, modem } = await openMockSerial();
    const emulator = buildEmulator(kind, modem, channel, `${kind}-${i}`, kind === 'e22' || kind === 'e32' ? options.radio : undefined);
    const driver = await openDriver(kind, host, clock, i, options);
    nodes.push({ driver, emulator, modemSide: modem });
  }
  return { clock, channel, violations, nodes };
}

export async function closeRig(rig: Rig): Promise<void> {
  for (const n of rig.nodes) {
    await n.driver.close();
    n.emulator.close();
  }
}

export function asAt(e: ModemEmulator): AtModemEmulator {
  return e as AtModemEmulator;
}
