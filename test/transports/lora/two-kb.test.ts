/**
 * A 2 KB message across every LoRa modem kind (RYLR998, RN2483, RAK3172 P2P, Ebyte E22/E32:
 * driver ↔ SerialPortMock ↔ emulator ↔ simulated air, EU868 1 % duty cycle, ManualClock) with the
 * fragmentation layer on top and 20 % of the frames lost on the air: it arrives intact both ways,
 * repaired by requests for just the missing fragments (fewer repairs than fragments), and the duty
 * cycle is never broken.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { FragmentTransport } from '../../../transports/fragment/transport.js';
import { buildRig, closeRig, DRIVER_KINDS } from './rig.js';

describe('2 KB over each LoRa modem with 20 % frame loss', () => {
  for (const kind of DRIVER_KINDS) {
    it(`${kind}: intact both ways, repaired selectively, within the duty cycle`, { timeout: 60_000 }, async () => {
      const rig = await buildRig(kind, { channel: { lossProbability: 0.2, seed: 11 } });
      const [a, b] = rig.nodes.map((n) => new FragmentTransport(n.driver, { clock: rig.clock, ackTimeoutMs: 60_000, requestDelayMs: 30_000, maxRounds: 12, maxRepairRounds: 64, reassemblyTimeoutMs: 3_600_000, closeInner: false })) as [FragmentTransport, FragmentTransport];
      try {
        for (const [from, to] of [
          [a, b],
          [b, a],
        ] as const) {
          const message = new Uint8Array(randomBytes(2048));
          const got: Uint8Array[] = [];
          const off = to.on('frame', (f) => void got.push(f));
          let outcome: string | undefined;
          from.send(message, to === b ? rig.nodes[1]!.driver.address : rig.nodes[0]!.driver.address).then(
            () => (outcome = 'acked'),
            (e: { code?: string }) => (outcome = e.code ?? 'failed'),
          );
          expect(await rig.clock.runUntilDone(() => outcome !== undefined && got.length > 0, 6 * 3_600_000)).toBe(true);
          off();
          expect(outcome).toBe('acked');
          expect(got).toHaveLength(1);
          expect(Buffer.from(got[0]!).equals(Buffer.from(message))).toBe(true);
          const s = from.stats.sender;
          const fragments = s.dataFrames - s.retransmissions;
          expect(s.retransmissions).toBeGreaterThan(0); // the loss was real
          expect(s.retransmissions).toBeLessThan(fragments); // ...and repaired selectively
        }
        expect(rig.violations).toEqual([]);
      } finally {
        await a.close();
        await b.close();
        await closeRig(rig);
      }
    });
  }
});
