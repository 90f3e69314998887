/**
 * Shared pieces of the fault-injection suite (test/fault/*.test.ts):
 * - `Ledger`: per scenario, what the sender had accepted (durably queued), what the receiving
 *   application got (and how often), and what the sender was told was dropped (with a reason).
 *   `check()` asserts "no accepted message lost, none delivered twice, nothing unknown delivered"
 *   and adds the counts to the file's tally.
 * - `recordingCrypto`: a crypto backend wrapper that records every AEAD (key, nonce) pair sealed,
 *   so a scenario can assert that no nonce was ever reused under one key (pairwise OSCORE nonces,
 *   HPKE, JWE content encryption), also across restarts that share the recorder.
 * - `PairwiseSeqWatch`: pairwise sequence numbers seen on the wire, per sender and context hint.
 * - `Tally` + `printTally`: one summary line per file (console.log and process.stdout).
 * - `skewedClock`, `PowerSwitch` (a KvStore and a Transport that die at once on a power cut),
 *   `driveReal` (virtual time plus real socket I/O).
 * - `watchedLink`: the common scenario base — parties on an in-memory link on virtual time, every
 *   frame's pairwise sequence number watched, every AEAD seal recorded.
 */
import { expect } from 'vitest';
import { err } from '../../src/errors.js';
import { defaultCrypto } from '../../src/crypto/default.js';
import type { CryptoBackend } from '../../src/crypto/types.js';
import { parsePairwise } from '../../src/envelope/compact/pairwise.js';
import type { KvEntry, KvListOptions, KvOp, KvStore, KvUsage } from '../../src/store/kv.js';
import { ManualClock, type Clock } from '../../src/util/clock.js';
import type { SecretsFile } from '../../src/did/create.js';
import { MemoryHub, type MemoryHubOptions } from '../../transports/memory.js';
import { identities, wrapTransport } from '../agent/helpers.js';
import { toHex } from '../../src/util/bytes.js';
import type { Agent } from '../../src/agent/agent.js';
import type { DropReason } from '../../src/agent/types.js';
import type { Transport } from '../../transports/types.js';

export interface Tally {
  scenarios: number;
  messages: number;
  lost: number;
  duplicated: number;
  dropped: number;
  seals: number;
  nonceReuse: number;
  seqChecked: number;
  seqReuse: number;
}

export function newTally(): Tally {
  return { scenarios: 0, messages: 0, lost: 0, duplicated: 0, dropped: 0, seals: 0, nonceReuse: 0, seqChecked: 0, seqReuse: 0 };
}

export function tallyLine(label: string, t: Tally): string {
  return (
    `fault-injection (${label}): ${t.scenarios} scenarios, ${t.messages} messages checked, ${t.lost} lost, ${t.duplicated} duplicated, ` +
    `${t.dropped} reported dropped to the sender, ${t.seals} AEAD seals / ${t.seqChecked} pairwise sequence numbers checked, ${t.nonceReuse + t.seqReuse} nonces reused`
  );
}

export function printTally(label: string, t: Tally): void {
  const line = tallyLine(label, t);
  console.log(line);
  process.stdout.write(line + '\n');
}

/** Accepted, delivered and dropped messages of one scenario. Keys are the test's own labels. */
export class Ledger {
  private readonly accepted = new Map<string, string | undefined>();
  private readonly delivered = new Map<string, number>();
  private readonly droppedIds = new Map<string, { reason: DropReason; code: string | undefined }>();
  private readonly unknown: string[] = [];
  private readonly tally: Tally;

  constructor(tally: Tally) {
    this.tally = tally;
  }

  /** The sender's send()/report() resolved: the message is durably queued (id when known). */
  accept(key: string, id?: string): void {
    expect(this.accepted.has(key), `key ${key} accepted twice`).toBe(false);
    this.accepted.set(key, id);
  }

  /** The receiving application got `key`. */
  deliver(key: string): void {
    if (!this.accepted.has(key)) this.unknown.push(key);
    this.delivered.set(key, (this.delivered.get(key) ?? 0) + 1);
  }

  /** Wires the sender's 'dropped' event (by message id). */
  watchDrops(sender: Agent): void {
    sender.on('dropped', (e) => this.droppedIds.set(e.id, { reason: e.reason, code: e.error?.code }));
  }

  get acceptedCount(): number {
    return this.accepted.size;
  }

  deliveredCount(key: string): number {
    return this.delivered.get(key) ?? 0;
  }

  /** Every accepted message delivered, or dropped (reported to the sender). */
  settled(): boolean {
    for (const [key, id] of this.accepted) if (!this.delivered.has(key) && !(id !== undefined && this.droppedIds.has(id))) return false;
    return true;
  }

  drops(): Array<{ key: string; reason: DropReason; code: string | undefined }> {
    const out: Array<{ key: string; reason: DropReason; code: string | undefined }> = [];
    for (const [key, id] of this.accepted) {
      const d = id !== undefined ? this.droppedIds.get(id) : undefined;
      if (d) out.push({ key, ...d });
    }
    return out;
  }

  /** Asserts the invariants and adds this scenario to the tally. */
  check(): { checked: number; dropped: number } {
    let lost = 0;
    let duplicated = 0;
    let dropped = 0;
    const problems: string[] = [];
    for (const [key, id] of this.accepted) {
      const n = this.delivered.get(key) ?? 0;
      const wasDropped = id !== undefined && this.droppedIds.has(id);
      if (wasDropped) dropped++;
      if (n > 1) {
        duplicated++;
        problems.push(`${key} delivered ${n} times`);
      } else if (n === 0 && !wasDropped) {
        lost++;
        problems.push(`${key} lost (neither delivered nor reported dropped)`);
      }
    }
    this.tally.messages += this.accepted.size;
    this.tally.lost += lost;
    this.tally.duplicated += duplicated;
    this.tally.dropped += dropped;
    expect(this.unknown, 'delivered but never accepted (corrupted or phantom)').toEqual([]);
    expect(problems).toEqual([]);
    return { checked: this.accepted.size, dropped };
  }
}

const SEALS = ['aesGcmSeal', 'chachaSeal', 'xchachaSeal', 'aesCcmSeal', 'aesCbcEncrypt'] as const;

export interface RecordingCrypto {
  crypto: CryptoBackend;
  /** Seals seen so far. */
  readonly seals: number;
  /** `alg key nonce` of every (key, nonce) pair sealed more than once. */
  readonly reused: string[];
}

/** Wraps a backend: every AEAD seal's (key, nonce) is recorded; a repeat is a nonce reuse. */
export function recordingCrypto(base: CryptoBackend = defaultCrypto): RecordingCrypto {
  const seen = new Set<string>();
  const state = { seals: 0, reused: [] as string[] };
  const crypto = new Proxy(base, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop === 'string' && (SEALS as readonly string[]).includes(prop) && typeof v === 'function') {
        return (key: Uint8Array, nonce: Uint8Array, ...rest: unknown[]) => {
          const k = `${prop} ${toHex(key)} ${toHex(nonce)}`;
          state.seals++;
          if (seen.has(k)) state.reused.push(k);
          seen.add(k);
          return (v as (...a: unknown[]) => unknown).call(target, key, nonce, ...rest);
        };
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return {
    crypto,
    get seals() {
      return state.seals;
    },
    get reused() {
      return state.reused;
    },
  };
}

/** Asserts no nonce reuse and adds the seals to the tally. */
export function checkNonces(tally: Tally, ...recorders: RecordingCrypto[]): void {
  for (const r of recorders) {
    tally.seals += r.seals;
    tally.nonceReuse += r.reused.length;
    expect(r.seals, 'the recorder saw no encryption at all').toBeGreaterThan(0);
    expect(r.reused, 'AEAD (key, nonce) pairs sealed twice').toEqual([]);
  }
}

/** Pairwise frames (0xE9) on the wire: sequence numbers per sender and context hint. */
export class PairwiseSeqWatch {
  private readonly seen = new Map<string, Set<number>>();
  readonly reused: string[] = [];
  frames = 0;

  observe(frame: Uint8Array, from: string): void {
    if (frame[0] !== 0xe9) return;
    let h: { hint: number; seq: number };
    try {
      h = parsePairwise(frame);
    } catch {
      return;
    }
    this.frames++;
    const k = `${from}/${h.hint}`;
    const s = this.seen.get(k) ?? new Set<number>();
    if (s.has(h.seq)) this.reused.push(`${k}#${h.seq}`);
    s.add(h.seq);
    this.seen.set(k, s);
  }

  check(tally: Tally, minFrames = 1): void {
    tally.seqChecked += this.frames;
    tally.seqReuse += this.reused.length;
    expect(this.frames, 'pairwise frames observed').toBeGreaterThanOrEqual(minFrames);
    expect(this.reused, 'pairwise sequence numbers transmitted twice').toEqual([]);
  }
}

/** A device clock off by `skewMs` from `base` (timers run on the base clock). */
export function skewedClock(base: ManualClock, skewMs: number): Clock {
  return { now: () => base.now() + skewMs, setTimer: (ms, fn) => base.setTimer(ms, fn) };
}

/**
 * A device's power supply: its KvStore and its Transport stop the instant `cut()` is called
 * (every later store call rejects ERR_STORE and nothing more is written; every later send is
 * silently lost, nothing more is received), the way a battery pulled out behaves. What was
 * durably written before the cut is all the next incarnation finds.
 */
export class PowerSwitch {
  on = true;

  cut(): void {
    this.on = false;
  }

  private check(): void {
    if (!this.on) throw err('ERR_STORE', 'power lost');
  }

  store(s: KvStore): KvStore {
    const live = async <T>(f: () => Promise<T>): Promise<T> => {
      this.check();
      const r = await f();
      this.check(); // a result coming back after the cut is never seen by the dead device
      return r;
    };
    return {
      get: (k: string) => live(() => s.get(k)),
      put: (k: string, v: Uint8Array) => live(() => s.put(k, v)),
      delete: (k: string) => live(() => s.delete(k)),
      batch: (ops: readonly KvOp[]) => live(() => s.batch(ops)),
      list: (p: string, o?: KvListOptions): Promise<KvEntry[]> => live(() => s.list(p, o)),
      count: (p: string) => live(() => s.count(p)),
      usage: (): Promise<KvUsage> => live(() => s.usage()),
      close: () => s.close(),
    };
  }

  transport(t: Transport): Transport {
    return wrapTransport(t, {
      send: async (f, to) => {
        if (this.on) await t.send(f, to);
      },
      on: ((event: string, fn: (...a: unknown[]) => void) =>
        (t.on as (e: string, f: (...a: unknown[]) => void) => () => void)(event, (...a: unknown[]) => {
          if (this.on) fn(...a);
        })) as Transport['on'],
    });
  }
}

/**
 * Drives virtual time in `stepMs` steps while real I/O (sockets, child processes) proceeds, until
 * `done()`; fails after `budgetMs` of wall time.
 */
export async function driveReal(clock: ManualClock, done: () => boolean, o: { stepMs?: number; budgetMs?: number; what?: string } = {}): Promise<void> {
  const end = Date.now() + (o.budgetMs ?? 15_000);
  while (!done()) {
    if (Date.now() > end) throw new Error(`not reached within the wall-time budget: ${o.what ?? 'condition'}`);
    await clock.advance(o.stepMs ?? 100);
    await new Promise((r) => setTimeout(r, 3));
  }
}

/** Drives virtual time in `stepMs` steps for `realMs` of wall time (real I/O proceeds meanwhile). */
export async function spinReal(clock: ManualClock, realMs: number, stepMs = 100): Promise<void> {
  const end = Date.now() + realMs;
  while (Date.now() < end) {
    await clock.advance(stepMs);
    await new Promise((r) => setTimeout(r, 3));
  }
}

export interface WatchedLink {
  clock: ManualClock;
  hub: MemoryHub;
  wire: PairwiseSeqWatch;
  rec: ReturnType<typeof recordingCrypto>;
  /** One identity per name, in order. */
  ids: SecretsFile[];
  /** DID → link address (the name). */
  addr: Record<string, string>;
}

/** Parties named `names` (their link addresses) on one in-memory link, on a fresh ManualClock. */
export function watchedLink(names: string[], hub: Omit<MemoryHubOptions, 'clock'>): WatchedLink {
  const clock = new ManualClock();
  const h = new MemoryHub({ clock, ...hub });
  const wire = new PairwiseSeqWatch();
  h.on('transmit', (f, from) => wire.observe(f, from));
  const ids = identities(names.length);
  const addr = Object.fromEntries(ids.map((id, i) => [id.did, names[i]!]));
  return { clock, hub: h, wire, rec: recordingCrypto(), ids, addr };
}
