import { describe, expect, it } from 'vitest';
import { transportContract } from '../contract.js';
import { ManualClock } from '../../../src/util/clock.js';
import { DidcommError } from '../../../src/errors.js';
import { equalBytes } from '../../../src/util/bytes.js';
import { BleNusTransport, createInMemoryBlePair } from '../../../transports/ble/index.js';
import { FragmentTransport } from '../../../transports/fragment/index.js';
import { bytesOf, settle } from '../fragment/helpers.js';

for (const attMtu of [23, 247]) {
  transportContract(`ble-nus over the in-memory link, ATT MTU ${attMtu} (${attMtu - 3} B frames)`, async () => {
    const clock = new ManualClock();
    const pair = createInMemoryBlePair({ attMtu, clock, delayMs: 2 });
    return { a: new BleNusTransport(pair.central), b: new BleNusTransport(pair.peripheral), bAddress: undefined, clock };
  });
}

transportContract('fragment over ble-nus, ATT MTU 23, 5 % notification loss', async () => {
  const clock = new ManualClock();
  const pair = createInMemoryBlePair({ clock, delayMs: 1, notificationLoss: 0.05, seed: 9 });
  return {
    a: new FragmentTransport(new BleNusTransport(pair.central), { clock }),
    b: new FragmentTransport(new BleNusTransport(pair.peripheral), { clock }),
    bAddress: undefined,
    clock,
  };
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DidcommError);
    return (e as DidcommError).code;
  }
  throw new Error('expected a rejection');
}

describe('BleNusTransport', () => {
  it('has mtu = ATT MTU - 3 for the common MTUs', () => {
    for (const [attMtu, payload] of [
      [23, 20],
      [53, 50],
      [131, 128],
      [247, 244],
    ] as const) {
      const pair = createInMemoryBlePair({ attMtu });
      expect(new BleNusTransport(pair.central).mtu).toBe(payload);
    }
    expect(() => createInMemoryBlePair({ attMtu: 22 })).toThrowError(DidcommError);
  });

  it('a 2 KB message crosses BLE at MTU 20 intact with the fragment layer, both ways, despite lost notifications', async () => {
    const clock = new ManualClock();
    const pair = createInMemoryBlePair({ clock, delayMs: 1, notificationLoss: 0.1, seed: 4 });
    const central = new FragmentTransport(new BleNusTransport(pair.central), { clock });
    const peripheral = new FragmentTransport(new BleNusTransport(pair.peripheral), { clock });
    const atPeripheral: Uint8Array[] = [];
    const atCentral: Uint8Array[] = [];
    peripheral.on('frame', (m, from) => {
      expect(from).toBe('central');
      atPeripheral.push(m);
    });
    central.on('frame', (m) => atCentral.push(m));
    const up = bytesOf(2048, 11);
    const down = bytesOf(2048, 12);
    expect(await settle(clock, central.send(up))).toBe('ok');
    expect(await settle(clock, peripheral.send(down))).toBe('ok');
    expect(atPeripheral.map((m) => equalBytes(m, up))).toEqual([true]);
    expect(atCentral.map((m) => equalBytes(m, down))).toEqual([true]);
    // Notifications were lost on the way down and repaired selectively.
    expect(peripheral.stats.sender.retransmissions).toBeGreaterThan(0);
    expect(peripheral.stats.sender.retransmissions).toBeLessThan(40);
    expect(pair.central.packetsSent + pair.peripheral.packetsSent).toBeLessThan(2 * 114 * 1.4);
  });

  it('goes offline on disconnect and online on reconnect, with the new MTU', async () => {
    const clock = new ManualClock();
    const pair = createInMemoryBlePair({ clock, delayMs: 5 });
    const a = new BleNusTransport(pair.central);
    const b = new BleNusTransport(pair.peripheral);
    const states: string[] = [];
    const got: Uint8Array[] = [];
    a.on('state', (s) => states.push(s));
    b.on('frame', (f) => got.push(f));
    await a.send(Uint8Array.of(1));
    pair.disconnect();
    await clock.advance(10);
    expect(got).toHaveLength(0); // in flight across the disconnect: dropped
    expect(a.state).toBe('offline');
    expect(await code(a.send(Uint8Array.of(2)))).toBe('ERR_TRANSPORT');
    pair.reconnect(247);
    expect(a.state).toBe('online');
    expect(a.mtu).toBe(244);
    await a.send(new Uint8Array(244).fill(3));
    await clock.advance(10);
    expect(got.map((f) => f.length)).toEqual([244]);
    expect(states).toEqual(['offline', 'online']);
    expect(await code(a.send(new Uint8Array(245)))).toBe('ERR_TOO_LARGE');
    expect(await code(a.send(Uint8Array.of(1), 'someone-else'))).toBe('ERR_TRANSPORT');
    await a.send(Uint8Array.of(1), 'peripheral');
  });

  it('closing one end disconnects the other', async () => {
    const pair = createInMemoryBlePair();
    const a = new BleNusTransport(pair.central);
    const b = new BleNusTransport(pair.peripheral);
    await a.close();
    expect(a.state).toBe('closed');
    expect(b.state).toBe('offline');
    expect(await code(b.send(Uint8Array.of(1)))).toBe('ERR_TRANSPORT');
  });

  it('the in-memory link splits long writes into ATT MTU - 3 packets', async () => {
    const pair = createInMemoryBlePair({ attMtu: 23 });
    const packets: number[] = [];
    pair.peripheral.on('data', (p) => packets.push(p.length));
    await pair.central.write(new Uint8Array(45));
    await new Promise((r) => setImmediate(r));
    expect(packets).toEqual([20, 20, 5]);
  });
});
