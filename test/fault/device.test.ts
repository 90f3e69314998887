/**
 * Fault injection at the ends of a link, on virtual time: full stores (the real Mediator's
 * mailbox quota; a device's bounded outbox under both overflow policies), device clocks that are
 * minutes off, and power lost on a device between storing a message and sending it (and between
 * sending and the ack), restarted on the same SQLite store.
 * After each: every message the sender had accepted reached the receiving application exactly
 * once, or the sender was told it was dropped and why (typed: reason + error code); no AEAD nonce
 * and no pairwise sequence number was ever used twice, also across power cycles.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { Mediator } from '../../src/mediator/service.js';
import { RadioGateway } from '../../src/mediator/radio-gateway.js';
import { SecretsStore } from '../../src/did/secrets.js';
import { MemoryMailboxStore } from '../../src/store/mailbox-memory.js';
import { MemoryMediationStore } from '../../src/store/mediation-memory.js';
import { MemoryKvStore } from '../../src/store/kv-memory.js';
import { SqliteKvStore } from '../../src/store/kv-sqlite.js';
import type { Agent } from '../../src/agent/agent.js';
import type { ProblemEvent } from '../../src/agent/types.js';
import { MemoryHub, type MemoryTransport } from '../../transports/memory.js';
import { codeOf, drive, identities, makeAgent, resolverFor } from '../agent/helpers.js';
import { checkNonces, Ledger, newTally, PowerSwitch, printTally, recordingCrypto, skewedClock, watchedLink } from './kit.js';

const tally = newTally();
afterAll(() => printTally('device ends', tally));

const NOTE = 'https://example.org/fault/1.0/note';
const MIN = 60_000;

function noteHandler(agent: Agent, ledger: Ledger, from?: string): void {
  agent.handle(NOTE, (inb) => {
    if (from === undefined || inb.sender === from) ledger.deliver(String(inb.message.body?.k));
  });
}

/** Polls `agent.sync()` every `everyMs` after the previous one ended, from `startMs` on (virtual time). */
function poll(clock: ManualClock, agent: Agent, everyMs: number, startMs = everyMs): void {
  const tick = (): void => {
    agent
      .sync({ deadline: clock.now() + 30_000 })
      .catch(() => undefined)
      .finally(() => clock.setTimer(everyMs, tick));
  };
  clock.setTimer(startMs, tick);
}

describe('fault injection at the ends: store full, clock skew, power loss', () => {
  it('mediator mailbox quota hit: the sender gets problem reports, retries later, and everything arrives once', async () => {
    tally.scenarios++;
    const clock = new ManualClock();
    const hub = new MemoryHub({ clock, mtu: 4096 });
    const rec = recordingCrypto();
    const [d, c, m] = identities(3);
    const known = [d!, c!, m!];
    const secrets = new SecretsStore(rec.crypto);
    secrets.addFromJson(m!);
    const QUOTA = 4;
    const mailbox = new MemoryMailboxStore({ clock });
    const stores = { mailbox, mediation: new MemoryMediationStore({ clock }), kv: new MemoryKvStore(), close: async () => undefined };
    const mediator = await Mediator.create({ did: m!.did, ctx: { crypto: rec.crypto, resolver: resolverFor(known), secrets }, stores, clock, policy: { mailbox: { maxMessages: QUOTA, maxBytes: 1 << 20 } } });
    new RadioGateway(mediator, { name: 'mem', transport: hub.attach('m'), clock, pushMail: 'live-only' });
    // a constrained radio link: compact, and the outer forward is authenticated, so the mediator answers it
    const device = makeAgent({ id: d!, clock, known, transport: hub.attach('d'), peers: { [m!.did]: 'm' }, link: { constrained: true }, peerConfigs: [{ did: c!.did, mediator: m!.did }], extra: { crypto: rec.crypto } });
    const controller = makeAgent({ id: c!, clock, known, transport: hub.attach('c'), peers: { [m!.did]: 'm' }, peerConfigs: [{ did: d!.did, mediator: m!.did }], extra: { crypto: rec.crypto } });
    const ledger = new Ledger(tally);
    ledger.watchDrops(device);
    noteHandler(controller, ledger, d!.did);
    const problems: ProblemEvent[] = [];
    device.on('problem', (p) => problems.push(p));
    await device.start();
    await controller.start();
    await drive(clock, device.requestMediation(m!.did));
    await drive(clock, controller.requestMediation(m!.did));
    let peak = 0;
    mailbox.subscribe(c!.did, () => void mailbox.status(c!.did).then((s) => (peak = Math.max(peak, s.messageCount))));

    const N = 16;
    for (let i = 0; i < N; i++) {
      const k = `q${i}`;
      ledger.accept(k, await device.send({ type: NOTE, to: [c!.did], body: { k } }));
    }
    // the controller is away for 10 minutes: its mailbox fills up at QUOTA
    await clock.advance(10 * MIN);
    expect((await mailbox.status(c!.did)).messageCount).toBe(QUOTA);
    const refusals = problems.filter((p) => p.direction === 'received' && p.code === 'e.p.me.res.storage' && p.peer === m!.did);
    expect(refusals.length, 'the sender was told the mailbox is full').toBeGreaterThanOrEqual(N - QUOTA);
    expect(ledger.drops(), 'a full mailbox is not a reason to give up').toEqual([]);
    expect(device.outbox.size).toBe(N);

    // back: the controller picks up every 2 minutes, the device too (for the acks)
    poll(clock, controller, 2 * MIN, 1);
    poll(clock, device, 2 * MIN);
    const settled = await clock.runUntilDone(() => ledger.settled() && device.outbox.size === 0, 12 * 3_600_000);
    ledger.check();
    expect(settled).toBe(true);
    expect(ledger.drops()).toEqual([]);
    expect(peak).toBeLessThanOrEqual(QUOTA);
    checkNonces(tally, rec);
  });

  it('device outbox full: drop-oldest reports each eviction, reject-new refuses with ERR_STORE_FULL; the rest arrives once', async () => {
    tally.scenarios++;
    const { clock, hub, wire, rec, ids, addr } = watchedLink(['a', 'b', 'c'], { mtu: 255 });
    const [a, b, c] = ids;
    const known = [a!, b!, c!];
    const pw = [{ did: c!.did, mode: 'pairwise' as const }];
    const LIMIT = 5;
    const dropper = makeAgent({ id: a!, clock, known, transport: hub.attach('a'), peers: addr, peerConfigs: pw, extra: { crypto: rec.crypto, outbox: { maxEntries: LIMIT, overflow: 'drop-oldest' } } });
    const refuser = makeAgent({ id: b!, clock, known, transport: hub.attach('b'), peers: addr, peerConfigs: pw, extra: { crypto: rec.crypto, outbox: { maxEntries: LIMIT, overflow: 'reject-new' } } });
    const controller = makeAgent({ id: c!, clock, known, transport: hub.attach('c'), peers: addr, peerConfigs: [{ did: a!.did, mode: 'pairwise' }, { did: b!.did, mode: 'pairwise' }], extra: { crypto: rec.crypto } });
    const la = new Ledger(tally);
    const lb = new Ledger(tally);
    la.watchDrops(dropper);
    lb.watchDrops(refuser);
    controller.handle(NOTE, (inb) => (inb.sender === a!.did ? la : lb).deliver(String(inb.message.body?.k)));
    for (const x of [dropper, refuser, controller]) await x.start();

    hub.partition(['c'], { silent: true }); // the controller is out of range: nothing is acknowledged
    const N = 12;
    const refused: string[] = [];
    for (let i = 0; i < N; i++) {
      la.accept(`a${i}`, await dropper.send({ type: NOTE, to: [c!.did], body: { k: `a${i}` } }));
      try {
        lb.accept(`b${i}`, await refuser.send({ type: NOTE, to: [c!.did], body: { k: `b${i}` } }));
      } catch (e) {
        refused.push(`b${i}:${await codeOf(Promise.reject(e))}`);
      }
      await clock.advance(1_000);
    }
    expect(refused).toEqual(Array.from({ length: N - LIMIT }, (_, j) => `b${LIMIT + j}:ERR_STORE_FULL`));
    expect(la.drops().map((x) => `${x.key}:${x.reason}`)).toEqual(Array.from({ length: N - LIMIT }, (_, j) => `a${j}:overflow`));
    await clock.advance(10 * MIN);
    hub.heal();
    // the application retries what reject-new refused, once there is room again
    const settledA = await clock.runUntilDone(() => la.settled() && dropper.outbox.size === 0 && refuser.outbox.size === 0, 3_600_000);
    expect(settledA).toBe(true);
    let refusedAgain = 0;
    for (const r of refused) {
      const k = r.split(':')[0]!;
      for (;;) {
        try {
          lb.accept(k, await refuser.send({ type: NOTE, to: [c!.did], body: { k } }));
          break;
        } catch (e) {
          expect(await codeOf(Promise.reject(e))).toBe('ERR_STORE_FULL');
          refusedAgain++;
          await clock.advance(1_000); // full again: wait for acks to free room
        }
      }
    }
    expect(refusedAgain).toBeGreaterThan(0);
    const settled = await clock.runUntilDone(() => lb.settled() && refuser.outbox.size === 0, 3_600_000);
    await clock.advance(5 * MIN);
    expect(la.check()).toEqual({ checked: N, dropped: N - LIMIT });
    expect(lb.check()).toEqual({ checked: N, dropped: 0 });
    expect(settled).toBe(true);
    for (let j = 0; j < N - LIMIT; j++) expect(la.deliveredCount(`a${j}`), `evicted a${j} never sent`).toBe(0);
    checkNonces(tally, rec);
    wire.check(tally, N + LIMIT);
  });

  it('clock skew: devices minutes behind or ahead within the allowed skew are accepted; beyond it each message is refused and reported dropped, typed', async () => {
    tally.scenarios++;
    const clock = new ManualClock();
    const hub = new MemoryHub({ clock, mtu: 4096, delayMs: 5 });
    const rec = recordingCrypto();
    const ids = identities(4);
    const [c, ...devs] = ids;
    const known = ids;
    const addr = Object.fromEntries(ids.map((x, i) => [x.did, `n${i}`]));
    const controller = makeAgent({ id: c!, clock, known, transport: hub.attach('n0'), peers: addr, extra: { crypto: rec.crypto } }); // default skew 300 s
    const controllerProblems: ProblemEvent[] = [];
    controller.on('problem', (p) => controllerProblems.push(p));
    const skews = [-10 * MIN, +4 * MIN, +10 * MIN];
    const ledgers = skews.map(() => new Ledger(tally));
    const agents = devs.map((x, i) => makeAgent({ id: x, clock, known, transport: hub.attach(`n${i + 1}`), peers: addr, extra: { crypto: rec.crypto, clock: skewedClock(clock, skews[i]!) } }));
    controller.handle(NOTE, (inb) => {
      const i = devs.findIndex((x) => x.did === inb.sender);
      ledgers[i]!.deliver(String(inb.message.body?.k));
    });
    agents.forEach((x, i) => ledgers[i]!.watchDrops(x));
    await controller.start();
    for (const x of agents) await x.start();
    const N = 10;
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < agents.length; i++) {
        const k = `s${i}-${n}`;
        ledgers[i]!.accept(k, await agents[i]!.send({ type: NOTE, to: [c!.did], body: { k } }));
      }
      await clock.advance(3_000);
    }
    const done = () => ledgers.every((l) => l.settled()) && agents.every((x) => x.outbox.size === 0);
    expect(await clock.runUntilDone(done, 3_600_000)).toBe(true);
    const results = ledgers.map((l) => l.check());
    expect(results).toEqual([
      { checked: N, dropped: 0 },
      { checked: N, dropped: 0 },
      { checked: N, dropped: N },
    ]);
    // the one beyond the skew: every message refused as "from the future", and the sender was told
    expect(ledgers[2]!.drops().map((x) => `${x.reason}:${x.code}`)).toEqual(Array(N).fill('rejected:ERR_EXPIRED'));
    expect(controllerProblems.filter((p) => p.direction === 'sent' && p.code === 'e.p.req.time')).toHaveLength(N);
    for (let n = 0; n < N; n++) expect(ledgers[2]!.deliveredCount(`s2-${n}`)).toBe(0);
    checkNonces(tally, rec);
  });

  it('power loss between store and send (and between send and ack): a new agent on the same SQLite store resends; each message arrives once, no sequence number reused', async () => {
    tally.scenarios++;
    const dir = mkdtempSync(join(tmpdir(), 'fault-power-'));
    try {
      const { clock, hub, wire, rec, ids, addr } = watchedLink(['d', 'c'], { mtu: 255, delayMs: 10 });
      const [d, c] = ids;
      const known = [d!, c!];
      const controller = makeAgent({ id: c!, clock, known, transport: hub.attach('c'), peers: addr, peerConfigs: [{ did: d!.did, mode: 'pairwise' }], extra: { crypto: rec.crypto } });
      const ledger = new Ledger(tally);
      noteHandler(controller, ledger, d!.did);
      await controller.start();

      const dbPath = join(dir, 'device.db');
      let power = new PowerSwitch();
      let device: Agent | undefined;
      let link: MemoryTransport | undefined;
      let db: SqliteKvStore | undefined;
      let boots = 0;
      /** What to do on the next 'queued' / transmitted frame of this incarnation. */
      let cutOnQueued: string | undefined;
      let cutAfterFrames = Infinity;
      let framesThisBoot = 0;
      const boot = async (): Promise<void> => {
        boots++;
        power = new PowerSwitch();
        db = await SqliteKvStore.open(dbPath);
        link = hub.attach('d');
        framesThisBoot = 0;
        device = makeAgent({ id: d!, clock, known, store: power.store(db), transport: power.transport(link), peers: addr, peerConfigs: [{ did: c!.did, mode: 'pairwise' }], extra: { crypto: rec.crypto } });
        ledger.watchDrops(device);
        device.on('queued', (e) => {
          if (e.id === cutOnQueued) power.cut(); // stored durably; not yet on the air
        });
        await device.start();
      };
      hub.on('transmit', (_f, from) => {
        if (from === 'd' && power.on && ++framesThisBoot >= cutAfterFrames) power.cut(); // on the air; the ack will not be heard
      });
      const bury = async (): Promise<void> => {
        // the dead device's leftovers: its timers (stop) and its radio address; the file stays as written
        await device!.stop();
        await link!.close();
        await db!.close();
      };

      const N = 30;
      let sentOnWire = 0;
      await boot();
      for (let i = 0; i < N; i++) {
        if (!power.on) {
          await bury();
          await boot();
        }
        const k = `p${i}`;
        const id = crypto.randomUUID();
        if (i === 4 || i === 19) cutOnQueued = id; // power fails right after the store
        if (i === 11) cutAfterFrames = framesThisBoot + 2; // power fails just after a frame went out
        const before = wire.frames;
        ledger.accept(k, await device!.send({ id, type: NOTE, to: [c!.did], body: { k } }));
        if (id === cutOnQueued) {
          expect(power.on).toBe(false);
          expect(wire.frames, 'nothing was transmitted between store and power loss').toBe(before);
          sentOnWire++;
        }
        if (i % 3 === 2) await clock.advance(2_000); // some go out and are acked, some are still in flight
        if (i === 25) {
          // a flicker: power back and gone again before anything was resent
          await bury();
          await boot();
          power.cut();
        }
      }
      if (!power.on) {
        await bury();
        await boot();
      }
      const settled = await clock.runUntilDone(() => ledger.settled() && device!.outbox.size === 0, 3_600_000);
      await clock.advance(10 * MIN);
      ledger.check();
      expect(settled).toBe(true);
      expect(ledger.drops()).toEqual([]);
      expect(sentOnWire).toBe(2);
      expect(boots).toBeGreaterThanOrEqual(5);
      expect(await db!.count('ob/')).toBe(0);
      // retransmissions after a power loss were answered as retries, never handed to the app again
      expect((controller.stats() as { inbound: { duplicates: number } }).inbound.duplicates).toBeGreaterThanOrEqual(1);
      wire.check(tally, N);
      checkNonces(tally, rec);
      await device!.stop();
      await db!.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
