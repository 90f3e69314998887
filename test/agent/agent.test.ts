/**
 * The Agent's public surface (src/agent/agent.ts): argument checks (typed errors), lifecycle and
 * events, and waking: a link coming back online or `wake()` sends what was waiting for a retry.
 */
import { describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { ManualClock } from '../../src/util/clock.js';
import { MemoryKvStore } from '../../src/store/kv-memory.js';
import { OfflineResolver } from '../../src/did/resolver.js';
import { MemoryHub } from '../../transports/memory.js';
import { codeOf, drive, identities, makeAgent, until } from './helpers.js';

const NOTE = 'https://example.org/note/1.0/note';

async function pair() {
  const clock = new ManualClock();
  const hub = new MemoryHub({ clock, mtu: 4096 });
  const [a, b] = identities(2);
  const addr = { [a!.did]: 'a', [b!.did]: 'b' };
  const alice = makeAgent({ id: a!, clock, transport: hub.attach('a'), peers: addr, extra: { outbox: { backoff: { baseMs: 60_000, maxMs: 600_000, jitter: 0 } } } });
  const bob = makeAgent({ id: b!, clock, transport: hub.attach('b'), peers: addr });
  const notes: number[] = [];
  bob.handle(NOTE, (inb) => void notes.push(inb.message.body!.n as number));
  return { clock, hub, a: a!, b: b!, alice, bob, notes };
}

describe('Agent API', () => {
  it('checks its arguments with typed errors', async () => {
    const [a] = identities(1);
    const base = { secrets: a!, resolver: new OfflineResolver(), store: new MemoryKvStore() };
    expect(() => new Agent({ ...base, links: [] })).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
    const w = await pair();
    await w.alice.start();
    expect(await codeOf(w.alice.send({ type: NOTE, to: [w.a.did, w.b.did] }))).toBe('ERR_ARGUMENT');
    expect(await codeOf(w.alice.send({ type: NOTE, to: ['not a did'] }))).toBe('ERR_ARGUMENT');
    expect(await codeOf(w.alice.report({ temp: 1 }))).toBe('ERR_ARGUMENT'); // no collector configured
    expect(await codeOf(w.alice.report({ temp: { c: 1 } as unknown as number }, { to: w.b.did }))).toBe('ERR_ARGUMENT');
    expect(() => w.alice.onCommand('', () => undefined)).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
    expect(w.alice.outbox.size).toBe(0);
  });

  it('emits queued before delivered, and state changes; stop fails pending requests', async () => {
    const w = await pair();
    const events: string[] = [];
    w.alice.on('state', (s, link) => events.push(link ? `link:${link.state}` : `state:${s}`));
    w.alice.on('queued', () => events.push('queued'));
    w.alice.on('delivered', () => events.push('delivered'));
    await w.alice.start();
    await w.bob.start();
    await w.alice.send({ type: NOTE, to: [w.b.did], body: { n: 1 } });
    await until(w.clock, () => events.includes('delivered'));
    expect(events).toEqual(['state:running', 'queued', 'delivered']);
    w.hub.partition(['b'], { silent: true });
    const ping = w.alice.ping(w.b.did);
    await w.clock.advance(1000);
    await w.alice.stop();
    expect(await codeOf(ping)).toBe('ERR_TRANSPORT');
    expect(w.alice.state).toBe('stopped');
    // started again in the same process, with the same store: the stored ping is still there and goes out
    w.hub.heal();
    await w.alice.start();
    expect(w.alice.outbox.size).toBe(1);
    await w.alice.send({ type: NOTE, to: [w.b.did], body: { n: 5 } });
    await until(w.clock, () => w.alice.outbox.size === 0);
    expect(events.slice(-2)).toEqual(['delivered', 'delivered']);
  });

  it('a link coming back online, or wake(), sends at once what was waiting for a retry', async () => {
    const w = await pair();
    await w.alice.start();
    await w.bob.start();
    w.hub.partition(['a']); // announced outage: alice's link goes offline, sends fail
    await w.alice.send({ type: NOTE, to: [w.b.did], body: { n: 1 } });
    await w.clock.advance(1000);
    expect(w.notes).toEqual([]);
    const t = w.clock.now();
    w.hub.heal(); // 'online' → the outbox wakes up instead of waiting out its 60 s backoff
    await until(w.clock, () => w.notes.length === 1);
    expect(w.clock.now() - t).toBeLessThan(1000);
    w.hub.partition(['b'], { silent: true }); // silent: frames vanish, alice only learns from missing acks
    await w.alice.send({ type: NOTE, to: [w.b.did], body: { n: 2 } });
    await w.clock.advance(10_000);
    w.hub.heal();
    const t2 = w.clock.now();
    w.alice.wake();
    await until(w.clock, () => w.notes.length === 2);
    expect(w.clock.now() - t2).toBeLessThan(1000);
    const r = await drive(w.clock, w.alice.sync());
    expect(r).toEqual({ pickup: undefined, pending: 0 });
  });
});
