/**
 * Per-peer routing (src/agent/peers.ts, router.ts): the wire format learnt through
 * discover-features (`accept`: didcomm/v2 vs didcomm/compact/1), compact on constrained links,
 * the envelope mode (pairwise, authcrypt, signed / signed-in-anoncrypt telemetry), short hints
 * once a peer knows us, fresh pairwise sequence numbers on retries, and `forward` wrapping for a
 * mediator — provisioned, or from the peer's DID document ("DID as endpoint").
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { MemoryHub } from '../../transports/memory.js';
import { unpack } from '../../src/envelope/index.js';
import { parsePairwise } from '../../src/envelope/compact/pairwise.js';
import { parseForward } from '../../src/routing/forward.js';
import { SecretsStore } from '../../src/did/secrets.js';
import { defaultCrypto } from '../../src/crypto/default.js';
import { createDid, type SecretsFile } from '../../src/did/create.js';
import { drive, identities, lossy, makeAgent, resolverFor, until } from './helpers.js';

function capture(hub: MemoryHub): Array<{ frame: Uint8Array; from: string; to: string | undefined }> {
  const frames: Array<{ frame: Uint8Array; from: string; to: string | undefined }> = [];
  hub.on('transmit', (frame, from, to) => frames.push({ frame, from, to }));
  return frames;
}

const isJson = (f: Uint8Array) => f[0] === 0x7b;

describe('format and mode per peer', () => {
  it('answers a peer in the format it speaks: compact to a device that wrote compact, even on a JSON-default link', async () => {
    const clock = new ManualClock();
    const hub = new MemoryHub({ clock, mtu: 65536 });
    const frames = capture(hub);
    const [c, d] = identities(2);
    const known = [c!, d!];
    const addr = { [c!.did]: 'c', [d!.did]: 'd' };
    const controller = makeAgent({ id: c!, clock, known, transport: hub.attach('c'), peers: addr });
    const device = makeAgent({ id: d!, clock, known, transport: hub.attach('d'), peers: addr, peerConfigs: [{ did: c!.did, format: 'compact' }] });
    for (const x of [controller, device]) await x.start();
    const type = 'https://example.org/note/1.0/note';
    for (const x of [controller, device]) x.handle(type, () => undefined);
    await drive(clock, controller.send({ type, to: [d!.did], body: { n: 0 } }));
    await clock.advance(1000);
    expect(isJson(frames.filter((f) => f.from === 'c').at(-1)!.frame)).toBe(true); // nothing known yet: JSON
    await drive(clock, device.send({ type, to: [c!.did], body: { n: 1 } }));
    await clock.advance(1000);
    expect(isJson(frames.filter((f) => f.from === 'd').at(-1)!.frame)).toBe(false);
    await drive(clock, controller.send({ type, to: [d!.did], body: { n: 2 } }));
    await clock.advance(1000);
    expect(frames.filter((f) => f.from === 'c').at(-1)!.frame[0]! & 0xf0).toBe(0xe0); // now compact
  });

  it('learns JSON-only vs compact peers from discover-features', async () => {
    const clock = new ManualClock();
    const hub = new MemoryHub({ clock, mtu: 65536 });
    const frames = capture(hub);
    const [a, j, k] = identities(3);
    const known = [a!, j!, k!];
    const addr = { [a!.did]: 'a', [j!.did]: 'j', [k!.did]: 'k' };
    const alice = makeAgent({ id: a!, clock, known, transport: hub.attach('a'), peers: addr });
    const jsonOnly = makeAgent({ id: j!, clock, known, transport: hub.attach('j'), peers: addr, extra: { accept: ['json'] } });
    const compact = makeAgent({ id: k!, clock, known, transport: hub.attach('k'), peers: addr, extra: { accept: ['compact', 'json'] } });
    for (const x of [alice, jsonOnly, compact]) await x.start();
    const type = 'https://example.org/note/1.0/note';
    for (const x of [jsonOnly, compact]) x.handle(type, () => undefined);
    // before anything is known: an unconstrained link defaults to standard JSON
    await drive(clock, alice.send({ type, to: [k!.did], body: { n: 1 } }));
    await clock.advance(1000);
    expect(isJson(frames.filter((f) => f.from === 'a' && f.to === 'k').at(-1)!.frame)).toBe(true);
    const kf = await drive(clock, alice.discover(k!.did));
    expect(kf.filter((f) => f['feature-type'] === 'accept').map((f) => f.id)).toEqual(['didcomm/compact/1', 'didcomm/v2']);
    expect(kf.find((f) => f['feature-type'] === 'constraint')).toMatchObject({ id: 'max_receive_bytes', max_receive_bytes: '65536' });
    expect(kf.some((f) => f.id === 'https://didcomm.org/telemetry/1.0')).toBe(true);
    const jf = await drive(clock, alice.discover(j!.did));
    expect(jf.filter((f) => f['feature-type'] === 'accept').map((f) => f.id)).toEqual(['didcomm/v2']);
    await drive(clock, alice.send({ type, to: [k!.did], body: { n: 2 } }));
    await drive(clock, alice.send({ type, to: [j!.did], body: { n: 3 } }));
    await clock.advance(1000);
    expect(frames.filter((f) => f.from === 'a' && f.to === 'k').at(-1)!.frame[0]).toBe(0xe6); // compact authcrypt
    expect(isJson(frames.filter((f) => f.from === 'a' && f.to === 'j').at(-1)!.frame)).toBe(true);
    expect(alice.peers.state(k!.did).accept).toEqual(['didcomm/compact/1', 'didcomm/v2']);
    expect(alice.outbox.size).toBe(0);
  });

  it('picks compact on a constrained link, signed telemetry by default, pairwise for provisioned peers, and shortens DIDs to hints once known', async () => {
    const clock = new ManualClock();
    const hub = new MemoryHub({ clock, mtu: 255 });
    const frames = capture(hub);
    const [s, c, p] = identities(3);
    const known = [s!, c!, p!];
    const addr = { [s!.did]: 's', [c!.did]: 'c', [p!.did]: 'p' };
    const sensor = makeAgent({ id: s!, clock, known, transport: hub.attach('s'), peers: addr, peerConfigs: [{ did: p!.did, mode: 'pairwise' }] });
    const collector = makeAgent({ id: c!, clock, known, transport: hub.attach('c'), peers: addr });
    const pw = makeAgent({ id: p!, clock, known, transport: hub.attach('p'), peers: addr, peerConfigs: [{ did: s!.did, mode: 'pairwise' }] });
    const got: Array<{ signed: boolean }> = [];
    for (const x of [collector, pw]) x.on('telemetry', (e) => got.push({ signed: e.signed }));
    for (const x of [sensor, collector, pw]) await x.start();
    await sensor.report({ seq: 1, temp: 20.5 }, { to: c!.did });
    await until(clock, () => sensor.outbox.size === 0);
    await sensor.report({ seq: 2, temp: 20.6 }, { to: c!.did });
    await until(clock, () => sensor.outbox.size === 0);
    const toC = frames.filter((f) => f.from === 's' && f.to === 'c').map((f) => f.frame);
    expect(toC.map((f) => f[0])).toEqual([0xe4, 0xe4]); // compact signed
    expect(toC[1]!.length).toBeLessThan(toC[0]!.length - 20); // our DID became a 2-byte hint once acked
    await sensor.report({ seq: 3 }, { to: c!.did, telemetry: 'signed-encrypted' });
    await sensor.report({ seq: 4 }, { to: p!.did });
    await sensor.report({ seq: 5 }, { to: p!.did, telemetry: 'signed-encrypted' });
    await sensor.report({ seq: 6 }, { to: p!.did, telemetry: 'encrypted' });
    pw.handle('https://example.org/note/1.0/note', () => undefined);
    await drive(clock, sensor.send({ type: 'https://example.org/note/1.0/note', to: [p!.did], body: {} }));
    await until(clock, () => sensor.outbox.size === 0);
    const last = frames.filter((f) => f.from === 's' && f.to === 'c').at(-1)!.frame;
    expect(last[0]).toBe(0xe5); // anoncrypt(signed)
    const toP = frames.filter((f) => f.from === 's' && f.to === 'p').map((f) => f.frame[0]);
    // signed envelope (the default), pairwise(signed), pairwise, and pairwise for ordinary messages
    expect(toP).toEqual([0xe4, 0xe9, 0xe9, 0xe9]);
    expect(got.map((g) => g.signed)).toEqual([true, true, true, true, true, false]);
  });

  it('falls back to its full DID when a peer that knew it lost its state (hints no longer resolve)', async () => {
    const clock = new ManualClock();
    const hub = new MemoryHub({ clock, mtu: 255 });
    const [s, c] = identities(2);
    const addr = { [s!.did]: 's', [c!.did]: 'c' };
    const sensor = makeAgent({ id: s!, clock, known: [c!], transport: hub.attach('s'), peers: addr, peerConfigs: [{ did: c!.did, knowsUs: true }] });
    // a collector that was reset: no provisioned documents, empty store — it does not know the sensor
    const collector = makeAgent({ id: c!, clock, known: [], transport: hub.attach('c'), peers: addr });
    const got: unknown[] = [];
    collector.on('telemetry', (e) => got.push(...e.readings));
    await sensor.start();
    await collector.start();
    await sensor.report({ seq: 1 }, { to: c!.did });
    await until(clock, () => sensor.outbox.size === 0);
    expect(got).toEqual([{ seq: 1 }]);
    expect(sensor.outbox.stats.transmissions).toBe(4); // 3 with the hint, then the full DID
  });

  it('a retried pairwise message is a new frame with a fresh sequence number and the same id', async () => {
    const clock = new ManualClock();
    const hub = new MemoryHub({ clock, mtu: 255 });
    const frames = capture(hub);
    const [s, p] = identities(2);
    const known = [s!, p!];
    const addr = { [s!.did]: 's', [p!.did]: 'p' };
    const sensor = makeAgent({ id: s!, clock, known, transport: hub.attach('s'), peers: addr, peerConfigs: [{ did: p!.did, mode: 'pairwise', telemetry: 'encrypted' }] });
    const pLink = lossy(hub.attach('p'));
    const peer = makeAgent({ id: p!, clock, known, transport: pLink, peers: addr, peerConfigs: [{ did: s!.did, mode: 'pairwise' }] });
    const ids: string[] = [];
    peer.on('telemetry', (e) => ids.push(e.message.id));
    await sensor.start();
    await peer.start();
    pLink.dropNext = 1; // the ack is lost
    await sensor.report({ seq: 1 }, { to: p!.did });
    await until(clock, () => sensor.outbox.size === 0);
    const sent = frames.filter((f) => f.from === 's').map((f) => f.frame);
    expect(sent).toHaveLength(2);
    const [h1, h2] = sent.map((f) => parsePairwise(f));
    expect(h2!.seq).toBeGreaterThan(h1!.seq);
    expect(ids).toHaveLength(1);
    expect((peer.stats() as { inbound: { duplicates: number } }).inbound.duplicates).toBe(1);
  });
});

/** A fake mediator: unwraps forwards addressed to it and passes the inner frame to `next`'s address. */
function fakeMediator(hub: MemoryHub, m: SecretsFile, known: SecretsFile[], routes: Record<string, string>): { forwarded: string[] } {
  const secrets = new SecretsStore();
  secrets.addFromJson(m);
  const ctx = { crypto: defaultCrypto, resolver: resolverFor(known), secrets };
  const link = hub.attach('m');
  const out = { forwarded: [] as string[] };
  link.on('frame', (frame) => {
    void (async () => {
      // (errors here would be test bugs: let them surface as unhandled rejections)
      const r = await unpack(ctx, frame);
      const f = parseForward(r.message);
      const next = f.next.split('#')[0]!;
      out.forwarded.push(`${r.meta.layers.join('+')}:${r.meta.format}->${routes[next]}`);
      await link.send(f.inner, routes[next]);
    })();
  });
  return out;
}

describe('forward wrapping for a mediator', () => {
  it('through a provisioned mediator DID, both ways', async () => {
    const clock = new ManualClock();
    const hub = new MemoryHub({ clock, mtu: 4096 });
    const frames = capture(hub);
    const [s, c, m] = identities(3);
    const known = [s!, c!, m!];
    const med = fakeMediator(hub, m!, known, { [s!.did]: 's', [c!.did]: 'c' });
    const sensor = makeAgent({ id: s!, clock, known, transport: hub.attach('s'), peers: { [m!.did]: 'm' }, extra: { mediator: m!.did } });
    const collector = makeAgent({ id: c!, clock, known, transport: hub.attach('c'), peers: { [m!.did]: 'm' }, peerConfigs: [{ did: s!.did, mediator: m!.did }] });
    const got: boolean[] = [];
    collector.on('telemetry', (e) => got.push(e.signed));
    await sensor.start();
    await collector.start();
    await sensor.report({ seq: 1, temp: 19 }, { to: c!.did });
    await until(clock, () => sensor.outbox.size === 0);
    expect(got).toEqual([true]); // signed telemetry, anoncrypted for the hop
    expect(frames.filter((f) => f.from === 's').every((f) => f.to === 'm')).toBe(true);
    expect(med.forwarded).toEqual(['anoncrypt:json->c', 'anoncrypt:json->s']); // the report, then the ack back
  });

  it('from the peer DID document: a did:peer whose service endpoint is the mediator DID', async () => {
    const clock = new ManualClock();
    const hub = new MemoryHub({ clock, mtu: 4096 });
    const [s, m] = identities(2);
    const c = createDid({ method: 'peer', services: [{ uri: m!.did, accept: ['didcomm/compact/1', 'didcomm/v2'] }] });
    const known = [s!, c, m!];
    const med = fakeMediator(hub, m!, known, { [s!.did]: 's', [c.did]: 'c' });
    const sensor = makeAgent({ id: s!, clock, known, transport: hub.attach('s'), peers: { [m!.did]: 'm' } });
    const collector = makeAgent({ id: c, clock, known, transport: hub.attach('c'), peers: { [s!.did]: 's' } });
    const got: unknown[] = [];
    collector.on('telemetry', (e) => got.push(...e.readings));
    await sensor.start();
    await collector.start();
    await sensor.report({ seq: 9 }, { to: c.did });
    await until(clock, () => sensor.outbox.size === 0);
    expect(got).toEqual([{ seq: 9 }]);
    expect(med.forwarded).toEqual(['anoncrypt:compact->c']); // the document's `accept` chose compact
  });
});
