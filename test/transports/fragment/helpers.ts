/** Shared set-up for the fragmentation tests: two FragmentTransports over a MemoryHub on virtual time. */
import { ManualClock } from '../../../src/util/clock.js';
import { MemoryHub, type MemoryHubOptions } from '../../../transports/memory.js';
import { FragmentTransport, type FragmentTransportOptions } from '../../../transports/fragment/index.js';
import type { LinkAddress } from '../../../transports/types.js';
import type { DidcommError } from '../../../src/errors.js';

export interface FragmentPair {
  clock: ManualClock;
  hub: MemoryHub;
  a: FragmentTransport;
  b: FragmentTransport;
  /** Messages b received, with the sender's address. */
  received: Array<{ message: Uint8Array; from: LinkAddress | undefined }>;
  errorsA: DidcommError[];
  errorsB: DidcommError[];
  /** Data fragments / control frames put on the hub by a (counted from the wire). */
  wire: { dataFromA: number; controlFromA: number; controlFromB: number };
}

export function fragmentPair(hubOptions: MemoryHubOptions = {}, options: FragmentTransportOptions = {}): FragmentPair {
  const clock = new ManualClock();
  const hub = new MemoryHub({ mtu: 20, clock, ...hubOptions });
  const a = new FragmentTransport(hub.attach('a'), { clock, ...options });
  const b = new FragmentTransport(hub.attach('b'), { clock, ...options });
  const received: FragmentPair['received'] = [];
  const errorsA: DidcommError[] = [];
  const errorsB: DidcommError[] = [];
  const wire = { dataFromA: 0, controlFromA: 0, controlFromB: 0 };
  hub.on('transmit', (frame, from) => {
    const control = frame.length > 0 && (frame[0]! & 0x80) !== 0;
    if (from === 'a') {
      if (control) wire.controlFromA++;
      else wire.dataFromA++;
    } else if (control) wire.controlFromB++;
  });
  b.on('frame', (message, from) => received.push({ message, from }));
  a.on('error', (e) => errorsA.push(e));
  b.on('error', (e) => errorsB.push(e));
  return { clock, hub, a, b, received, errorsA, errorsB, wire };
}

/** Sends and runs virtual time until the send settles; returns the error code or 'ok'. */
export async function settle(clock: ManualClock, p: Promise<void>, budgetMs = 3_600_000): Promise<string> {
  let outcome: string | undefined;
  p.then(
    () => (outcome = 'ok'),
    (e: DidcommError) => (outcome = e.code ?? String(e)),
  );
  await clock.runUntilDone(() => outcome !== undefined, budgetMs);
  if (outcome === undefined) throw new Error('send did not settle within the virtual-time budget');
  return outcome;
}

/** Deterministic pseudo-random bytes. */
export function bytesOf(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}
