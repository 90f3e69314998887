/**
 * Fault injection in the infrastructure, end to end with real sockets:
 * - the MQTT broker (embedded aedes, port 0) is stopped mid-stream and started again on the same
 *   port, then restarted again having lost all its state, while a device agent sends to a
 *   controller agent over MqttTransport (reconnect timers and the agents on a ManualClock);
 * - the real mediator, in a child process on SQLite with MQTT, is killed with SIGKILL while a
 *   device sends through it, and restarted on the same store (wall clock: the child checks message
 *   times against its own clock).
 * After each: every accepted message reached the controller's application exactly once, nothing
 * was reported dropped, no AEAD nonce was reused; for the kill -9, every message the mediator had
 * acknowledged to the broker (durably stored) before the kill is delivered after the restart.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../src/util/clock.js';
import { SecretsStore } from '../../src/did/secrets.js';
import { unpack, type EnvelopeContext } from '../../src/envelope/index.js';
import { FORWARD_TYPE, parseForward } from '../../src/routing/forward.js';
import { openStores } from '../../src/store/open.js';
import type { SecretsFile } from '../../src/did/create.js';
import type { Agent } from '../../src/agent/agent.js';
import { MqttTransport } from '../../transports/mqtt/index.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../transports/mqtt/embedded-broker.js';
import type { TransportState } from '../../transports/types.js';
import { identities, makeAgent, resolverFor } from '../agent/helpers.js';
import { checkNonces, driveReal, Ledger, newTally, printTally, recordingCrypto, spinReal } from './kit.js';
import { startReadyChild, type ReadyChild } from '../mediator/child.js';

const tally = newTally();
const RUN = randomBytes(4).toString('hex');
const NOTE = 'https://example.org/fault/1.0/note';
let broker: EmbeddedBroker;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  broker = await startEmbeddedBroker();
});
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
  await broker.close();
  printTally('infrastructure', tally);
});

function mqtt(did: string, prefix: string, clock: ManualClock | typeof systemClock): MqttTransport {
  const t = new MqttTransport({ url: broker.url, protocolVersion: 4, did, topicPrefix: prefix, clock, clean: false, clientId: `f${randomBytes(8).toString('hex')}`, reconnect: { initialMs: 200, maxMs: 1_000, jitter: 0 } });
  closers.push(() => t.close());
  return t;
}

describe('fault injection in the infrastructure', () => {
  it('MQTT broker restarts mid-stream (state kept, then state lost): every message arrives once', async () => {
    tally.scenarios++;
    const clock = new ManualClock(Date.now());
    const prefix = `fault/${RUN}/a/didcomm/v1`;
    const rec = recordingCrypto();
    const [d, c] = identities(2);
    const known = [d!, c!];
    const dT = mqtt(d!.did, prefix, clock);
    const cT = mqtt(c!.did, prefix, clock);
    await Promise.all([dT.whenOnline(5_000), cT.whenOnline(5_000)]);
    const states: TransportState[] = [];
    dT.on('state', (s) => states.push(s));
    const device = makeAgent({ id: d!, clock, known, transport: dT, peers: { [c!.did]: cT.address! }, extra: { crypto: rec.crypto } });
    const controller = makeAgent({ id: c!, clock, known, transport: cT, peers: { [d!.did]: dT.address! }, extra: { crypto: rec.crypto } });
    const ledger = new Ledger(tally);
    ledger.watchDrops(device);
    controller.handle(NOTE, (inb) => void (inb.sender === d!.did && ledger.deliver(String(inb.message.body?.k))));
    await device.start();
    await controller.start();
    const sendBatch = async (from: number, n: number): Promise<void> => {
      for (let i = from; i < from + n; i++) ledger.accept(`b${i}`, await device.send({ type: NOTE, to: [c!.did], body: { k: `b${i}` } }));
    };
    const delivered = (n: number) => (): boolean => {
      let got = 0;
      for (let i = 0; i < n; i++) if (ledger.deliveredCount(`b${i}`) > 0) got++;
      return got >= n;
    };

    await sendBatch(0, 10);
    await driveReal(clock, delivered(10), { what: 'first batch' });

    // 1. the broker goes away (sessions kept) while messages are being sent, and comes back
    await broker.stop();
    await driveReal(clock, () => dT.state === 'offline' && cT.state === 'offline', { what: 'offline' });
    await sendBatch(10, 10);
    await spinReal(clock, 300); // ~10 s of virtual time down: the outbox's retries pile up behind the link
    expect(ledger.deliveredCount('b10')).toBe(0);
    await broker.start();
    await driveReal(clock, delivered(20), { what: 'second batch after the restart' });

    // 2. the broker restarts having lost every session and queued message, in the middle of a burst
    await sendBatch(20, 15);
    await driveReal(clock, () => ledger.deliveredCount('b22') > 0, { stepMs: 10, what: 'third batch under way' });
    await broker.restart({ keepState: false });
    await driveReal(clock, () => ledger.settled() && device.outbox.size === 0, { budgetMs: 20_000, what: 'all delivered' });
    await spinReal(clock, 300); // stragglers: late copies must not count twice
    ledger.check();
    expect(ledger.drops()).toEqual([]);
    expect(states.filter((s) => s === 'offline').length, 'the device saw the broker go away twice').toBeGreaterThanOrEqual(2);
    expect(dT.state).toBe('online');
    checkNonces(tally, rec);
    await device.stop();
    await controller.stop();
  }, 45_000);

  it('mediator kill -9 under load, restarted on the same SQLite store: everything it stored is delivered, every message once', async () => {
    tally.scenarios++;
    const dir = mkdtempSync(join(tmpdir(), 'fault-mediator-'));
    closers.push(async () => rmSync(dir, { recursive: true, force: true }));
    const prefix = `fault/${RUN}/m/didcomm/v1`;
    let child = await startMediator(dir, prefix);
    const mDid = child.did;
    const rec = recordingCrypto();
    const [d, c] = identities(2);
    const mediatorSecrets = JSON.parse(readFileSync(join(dir, 'mediator-secrets.json'), 'utf8')) as SecretsFile;
    const known = [d!, c!, mediatorSecrets];
    const ctxOf = (s: SecretsFile): EnvelopeContext => {
      const secrets = new SecretsStore();
      secrets.addFromJson(s);
      return { crypto: rec.crypto, resolver: resolverFor(known), secrets };
    };
    const mCtx = ctxOf(mediatorSecrets);
    const cCtx = ctxOf(c!);
    /** The NOTE id inside a frame sent to the mediator's inbox (forward → inner), if it is one. */
    const noteIn = async (frame: Uint8Array): Promise<string | undefined> => {
      try {
        const outer = await unpack(mCtx, frame);
        if (outer.message.type !== FORWARD_TYPE) return undefined;
        const inner = await unpack(cCtx, parseForward(outer.message).inner);
        return inner.message.type === NOTE ? inner.message.id : undefined;
      } catch {
        return undefined;
      }
    };
    // The broker sees the mediator's PUBACKs: the listener sends one only once a forward is stored.
    const storedAcks: Array<Promise<string | undefined>> = [];
    let counting = true;
    // kill -9 at the twelfth stored forward, from inside the broker's ack event (no polling gap in
    // which the mediator could store the rest), so the kill lands with more on the way
    let killAt12: (() => void) | undefined;
    broker.aedes().on('ack', (packet, client) => {
      if (!counting || !client?.id?.startsWith('dcm-') || packet.cmd !== 'publish') return;
      storedAcks.push(noteIn(new Uint8Array(packet.payload as Buffer)));
      if (storedAcks.length >= 12 && killAt12) {
        killAt12();
        killAt12 = undefined;
      }
    });

    const clock = systemClock;
    const fast = { ackTimeoutMs: 1_500 };
    const outbox = { backoff: { baseMs: 300, maxMs: 2_000 } };
    const dT = mqtt(d!.did, prefix, clock);
    const cT = mqtt(c!.did, prefix, clock);
    await Promise.all([dT.whenOnline(5_000), cT.whenOnline(5_000)]);
    const mk = (id: SecretsFile, t: MqttTransport, peer: string): Agent =>
      makeAgent({ id, clock: clock as ManualClock, known, transport: t, peers: { [mDid]: child.inbox }, link: fast, peerConfigs: [{ did: peer, mediator: mDid }], extra: { crypto: rec.crypto, clock, outbox, heldAtMediatorMs: 0 } });
    const device = mk(d!, dT, c!.did);
    const controller = mk(c!, cT, d!.did);
    const ledger = new Ledger(tally);
    ledger.watchDrops(device);
    const keyOf = new Map<string, string>();
    controller.handle(NOTE, (inb) => void (inb.sender === d!.did && ledger.deliver(String(inb.message.body?.k))));
    await device.start();
    await controller.start();
    await device.requestMediation(mDid, { timeoutMs: 10_000 });
    await controller.requestMediation(mDid, { timeoutMs: 10_000 });

    const N = 40;
    const killed = new Promise<void>((r) => {
      killAt12 = () => {
        counting = false;
        child.process.kill('SIGKILL');
        r();
      };
    });
    for (let i = 0; i < N; i++) {
      const id = await device.send({ type: NOTE, to: [c!.did], body: { k: `k${i}` } });
      keyOf.set(id, `k${i}`);
      ledger.accept(`k${i}`, id);
    }
    // kill -9 once the mediator has stored a dozen of them, with more on the way
    let wasKilled = false;
    void killed.then(() => (wasKilled = true));
    await waitReal(() => wasKilled, 15_000, 'mediator stored 12 forwards');
    await child.kill();
    const ackedBeforeKill = new Set((await Promise.all(storedAcks)).filter((x): x is string => x !== undefined));
    expect(ackedBeforeKill.size).toBeGreaterThanOrEqual(1);

    // what the dead mediator's SQLite file holds for the controller
    const onDisk = await openStores(`sqlite:${join(dir, 'mailbox.db')}`);
    const stored = new Set<string>();
    for (const m of await onDisk.mailbox.fetch(c!.did, 1000)) {
      const u = await unpack(cCtx, m.bytes).catch(() => undefined);
      if (u?.message.type === NOTE) stored.add(u.message.id);
    }
    await onDisk.close();
    for (const id of ackedBeforeKill) expect(stored.has(id), `acknowledged ${keyOf.get(id)} is in the store after kill -9`).toBe(true);
    expect(stored.size, 'killed mid-stream: not everything was stored yet').toBeLessThan(N);

    child = await startMediator(dir, prefix);
    expect(child.did).toBe(mDid);
    const busy = new Set<Agent>();
    const pollers = [controller, device].map((a) =>
      setInterval(() => {
        if (busy.has(a)) return;
        busy.add(a);
        a.sync({ deadline: Date.now() + 2_000, timeoutMs: 2_000 })
          .catch(() => undefined)
          .finally(() => busy.delete(a));
      }, 300),
    );
    try {
      await waitReal(() => ledger.settled() && device.outbox.size === 0, 30_000, 'all delivered after the restart');
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      pollers.forEach(clearInterval);
    }
    ledger.check();
    expect(ledger.drops()).toEqual([]);
    for (const id of stored) expect(ledger.deliveredCount(keyOf.get(id)!), `stored before the kill: ${keyOf.get(id)}`).toBe(1);
    checkNonces(tally, rec);
    await device.stop();
    await controller.stop();
    await child.stop();
  }, 55_000);
});

async function waitReal(done: () => boolean, budgetMs: number, what: string): Promise<void> {
  const end = Date.now() + budgetMs;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Child extends Omit<ReadyChild, 'fields'> {
  did: string;
  inbox: string;
}

/** The fault fixture's mediator on the broker (`READY <did> <inbox>`), killed at the end of the file in any case. */
async function startMediator(dataDir: string, prefix: string): Promise<Child> {
  const c = await startReadyChild(fileURLToPath(new URL('./fixtures/mediator-child.ts', import.meta.url)), [dataDir, broker.url, prefix], 25_000);
  closers.push(() => c.kill());
  return { did: c.fields[0], inbox: c.fields[1], process: c.process, kill: c.kill, stop: c.stop };
}
