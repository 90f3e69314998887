/**
 * The link table: for the compact and JSON telemetry messages, frames needed and airtime per
 * message at SF7/SF9/SF12 on each modem (its MTU and on-air encoding), and messages per hour that
 * the EU868 1 % duty cycle allows (36 s of airtime per hour per sub-band).
 */
import { pack } from '../src/envelope/index.js';
import { PairwiseSessions } from '../src/envelope/compact/pairwise-sessions.js';
import { RYLR_AIR_OVERHEAD, RYLR_MTU } from '../transports/lora/rylr.js';
import { RN2483_MTU } from '../transports/lora/rn2483.js';
import { COBS_FRAME_OVERHEAD } from '../transports/serial/cobs-frames.js';
import { fragmentCount } from '../transports/fragment/header.js';
import { contextFor, parties, telemetryMessage, type Row } from './common.js';
import { messageAirtimeMs } from './sizes.js';

const MODEMS = [
  { name: 'RN2483 (binary, 255 B)', mtu: RN2483_MTU, air: (n: number) => n },
  { name: 'RYLR998 (base64url, 180 B)', mtu: RYLR_MTU, air: (n: number) => RYLR_AIR_OVERHEAD + Math.ceil((n * 4) / 3) },
  { name: 'E22 (COBS+CRC, 235 B)', mtu: 235, air: (n: number) => n + COBS_FRAME_OVERHEAD },
];

export async function link(): Promise<Row[]> {
  const { alice, bob } = parties;
  const A = contextFor(alice);
  const msg = telemetryMessage();
  const messages = [
    { name: 'compact pairwise', bytes: (await pack(A, msg, { mode: 'pairwise', format: 'compact', to: [bob.did], from: alice.did, pairwise: new PairwiseSessions(A) })).bytes.length },
    { name: 'compact authcrypt', bytes: (await pack(A, msg, { mode: 'authcrypt', format: 'compact', to: [bob.did], from: alice.did, hints: { length: 2 } })).bytes.length },
    { name: 'JSON authcrypt', bytes: (await pack(A, msg, { mode: 'authcrypt', to: [bob.did], from: alice.did })).bytes.length },
  ];
  const rows: Row[] = [];
  for (const modem of MODEMS) {
    for (const m of messages) {
      const row: Row = { name: `${m.name} / ${modem.name}`, unit: 'ms', ours: 0, bytes: m.bytes, frames: m.bytes <= modem.mtu ? 1 : fragmentCount(m.bytes, modem.mtu) };
      for (const sf of [7, 9, 12]) {
        const t = messageAirtimeMs(m.bytes, sf, modem.mtu, modem.air);
        row[`airtimeMsSF${sf}`] = Math.round(t * 10) / 10;
        row[`perHourSF${sf}`] = Math.floor(36_000 / t);
      }
      row.ours = row.airtimeMsSF12 as number;
      rows.push(row);
    }
  }
  return rows;
}
