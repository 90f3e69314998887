import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { MemoryHub } from '../../transports/memory.js';
import { GatedTransport } from '../../transports/gate.js';
import { transportContract, waitUntil } from './contract.js';

transportContract('gated (up)', async () => {
  const clock = new ManualClock();
  const hub = new MemoryHub({ clock, mtu: 64 });
  return { a: new GatedTransport(hub.attach('a')), b: new GatedTransport(hub.attach('b')), bAddress: 'b', clock };
});

describe('GatedTransport', () => {
  it('refuses sends and drops inbound frames while down, then works again', async () => {
    const clock = new ManualClock();
    const hub = new MemoryHub({ clock, mtu: 64 });
    const a = new GatedTransport(hub.attach('a'));
    const b = new GatedTransport(hub.attach('b'));
    const got: number[] = [];
    const states: string[] = [];
    b.on('frame', (f) => got.push(f[0]!));
    b.on('state', (s) => states.push(s));
    b.setDown(true);
    expect(b.state).toBe('offline');
    await expect(b.send(Uint8Array.of(1), 'a')).rejects.toMatchObject({ code: 'ERR_TRANSPORT' });
    await a.send(Uint8Array.of(7), 'b');
    await clock.advance(100);
    expect(got).toEqual([]);
    b.setDown(false);
    await a.send(Uint8Array.of(8), 'b');
    await waitUntil(() => got.length === 1, { clock });
    expect(got).toEqual([8]);
    expect(states).toEqual(['offline', 'online']);
  });
});
