/**
 * Driver factories from the provisioned transport config (src/provision/espruino.ts writes
 * these fields): `lora-rylr` on the board's modem UART, `ble-nus` on the nRF52 radio. Each
 * board entry (src/entries/) imports only the factories its hardware has, so rollup leaves the
 * other drivers out of its bundle.
 */
import type { BoardProfile } from '../boards.js';
import type { TransportConfig } from './start.js';
import { RylrLink, type RylrConfig, type Uart } from './rylr.js';
import { BleNusLink } from './ble.js';

/** RYLR998 on `uart`; defaults match the Node side's DEFAULT_LORA_SETTINGS and a 1 % sub-band. */
export function rylrFactory(uart: () => Uart) {
  return (t: TransportConfig, board: BoardProfile, now: () => number): RylrLink => {
    const c = Object.assign(
      { address: 2, gateway: 1, networkId: 18, frequencyHz: 868100000, sf: 7, bandwidthHz: 125000, codingRate: 1, preamble: 8, powerDbm: 14, dutyCycle: 0.01, commandTimeoutMs: 3000, rx: board.uartPins.rx, tx: board.uartPins.tx },
      t,
    ) as unknown as RylrConfig & { rx: string; tx: string };
    return new RylrLink(uart(), c, now, { rx: c.rx, tx: c.tx });
  };
}

export function bleFactory(t: TransportConfig, board: BoardProfile): BleNusLink {
  return new BleNusLink(NRF, (t.mtu as number) || board.bleMtu, (t.gapMs as number) || 20);
}
