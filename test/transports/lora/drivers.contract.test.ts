/**
 * Every LoRa driver passes the shared Transport contract, end to end:
 * driver ↔ SerialPortMock ↔ emulator ↔ channel ↔ emulator ↔ SerialPortMock ↔ driver, on a
 * ManualClock with the EU868 1 % duty cycle, and without a single duty-cycle violation on the air.
 */
import { expect } from 'vitest';
import { transportContract } from '../contract.js';
import { buildRig, closeRig, DRIVER_KINDS } from './rig.js';

for (const kind of DRIVER_KINDS) {
  transportContract(`lora ${kind} (SerialPortMock + emulator + channel)`, async () => {
    const rig = await buildRig(kind);
    const [a, b] = rig.nodes.map((n) => n.driver) as [typeof rig.nodes[0]['driver'], typeof rig.nodes[0]['driver']];
    return {
      a,
      b,
      bAddress: b.address,
      clock: rig.clock,
      cleanup: async () => {
        await closeRig(rig);
        expect(rig.violations).toEqual([]);
      },
    };
  });
}
