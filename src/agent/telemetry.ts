/**
 * The sensor and collector sides of Telemetry 1.0 (src/protocols/telemetry.ts,
 * docs/protocols.md §Telemetry).
 *
 * Sensor: each reading is durable the moment `report()` resolves. Without batching it becomes one
 * `report` message in the outbox. With batching it is first written to a per-peer buffer in the
 * KvStore; the buffer becomes one `batch` message when it holds `maxReadings` or its oldest
 * reading is `maxDelayMs` old, in one atomic store batch (buffer entries deleted + outbox entry
 * written), so a crash never loses or duplicates a reading. Reports ask for an ack (`please_ack`).
 *
 * Collector: readings from authenticated senders only (a signature, authcrypt or a pairwise
 * context), each batch expanded, emitted once per message (the dispatcher dedupes).
 */
import { err, isDidcommError, type DidcommError } from '../errors.js';
import { fromUtf8, toHex, utf8 } from '../util/bytes.js';
import type { Clock, Timer } from '../util/clock.js';
import type { CryptoBackend } from '../crypto/types.js';
import type { KvOp, KvStore } from '../store/kv.js';
import { batch, checkReading, parseReadings, report, type Reading } from '../protocols/telemetry.js';
import type { Message } from '../message/message.js';
import type { AgentEvents, InboundMessage, TelemetrySigning } from './types.js';

const PREFIX = 'tb/';
/** Batches' worth of readings buffered per peer at most. */
const MAX_BUFFERED_BATCHES = 4;

interface Buffer {
  peer: string;
  keys: string[];
  readings: Reading[];
  firstAt: number;
  timer: Timer | undefined;
  telemetry: TelemetrySigning | undefined;
}

export interface TelemetryDeps {
  store: KvStore;
  clock: Clock;
  crypto: CryptoBackend;
  self: string;
  batch: { maxReadings: number; maxDelayMs: number } | undefined;
  /** Wire size of a message to `peer` and the most its link takes (undefined: unknown yet). */
  measure: (peer: string, m: Message, telemetry: TelemetrySigning | undefined) => Promise<{ bytes: number; limit: number } | undefined>;
  /** Puts a telemetry message into the outbox, atomically with `extraOps`. */
  enqueue: (peer: string, m: Message, telemetry: TelemetrySigning | undefined, extraOps: KvOp[]) => Promise<void>;
  newId: () => string;
  emit: <K extends keyof AgentEvents>(event: K, ...args: Parameters<AgentEvents[K]>) => void;
}

export class TelemetryService {
  private readonly d: TelemetryDeps;
  private readonly buffers = new Map<string, Buffer>();
  private seq = 0;
  private flushing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(d: TelemetryDeps) {
    this.d = d;
    if (d.batch && (!(d.batch.maxReadings >= 1 && d.batch.maxReadings <= 1000) || !(d.batch.maxDelayMs >= 0))) {
      throw err('ERR_ARGUMENT', 'telemetry.batch: maxReadings in 1..1000 and maxDelayMs >= 0');
    }
  }

  /** Reloads buffered readings (after a restart) and schedules their flush. */
  async start(): Promise<void> {
    this.stopped = false;
    this.buffers.clear();
    let after: string | undefined;
    for (;;) {
      const page = await this.d.store.list(PREFIX, { limit: 1000, ...(after ? { after } : {}) });
      for (const { key, value } of page) {
        const rec = JSON.parse(fromUtf8(value)) as { peer: string; reading: Reading; at: number; telemetry?: TelemetrySigning };
        this.seq = Math.max(this.seq, Number(key.slice(key.lastIndexOf('/') + 1)) + 1);
        const b = this.buffer(rec.peer, rec.telemetry, rec.at);
        if (b.keys.length === 0) b.firstAt = rec.at;
        b.keys.push(key);
        b.readings.push(rec.reading);
      }
      if (page.length < 1000) break;
      after = page[page.length - 1]!.key;
    }
    for (const b of this.buffers.values()) await this.maybeFlush(b);
  }

  stop(): void {
    this.stopped = true;
    for (const b of this.buffers.values()) b.timer?.cancel();
  }

  private buffer(peer: string, telemetry: TelemetrySigning | undefined, at: number): Buffer {
    let b = this.buffers.get(peer);
    if (!b) {
      b = { peer, keys: [], readings: [], firstAt: at, timer: undefined, telemetry };
      this.buffers.set(peer, b);
    }
    return b;
  }

  /** Stores a reading for `peer`; resolves once it is durable. Returns the message id, or undefined while buffered. */
  async report(peer: string, reading: Reading, telemetry: TelemetrySigning | undefined): Promise<string | undefined> {
    const r = checkReadingArg(reading);
    if (!this.d.batch) {
      const id = this.d.newId();
      await this.d.enqueue(peer, this.withTimes(report(id, this.d.self, peer, r)), telemetry, []);
      return id;
    }
    const now = this.d.clock.now();
    const b = this.buffer(peer, telemetry, now);
    // Bounded: when batches cannot be queued (outbox full with 'reject-new'), refuse new readings.
    if (b.readings.length >= this.d.batch.maxReadings * MAX_BUFFERED_BATCHES) {
      throw err('ERR_STORE_FULL', `telemetry buffer for ${peer.slice(0, 40)} holds ${b.readings.length} readings`);
    }
    const key = `${PREFIX}${toHex(this.d.crypto.sha256(utf8(peer)).subarray(0, 10))}/${String(this.seq++).padStart(12, '0')}`;
    await this.d.store.put(key, utf8(JSON.stringify({ peer, reading: r, at: now, ...(telemetry ? { telemetry } : {}) })));
    if (b.keys.length === 0) b.firstAt = now;
    b.keys.push(key);
    b.readings.push(r);
    // the reading is durable now; a batch that cannot be queued yet stays buffered (and is retried)
    await this.maybeFlush(b).catch((e: unknown) => this.d.emit('error', asDidcommError(e)));
    return undefined;
  }

  /** Turns every buffer into batch messages now (e.g. before the device sleeps). */
  async flushAll(): Promise<void> {
    for (const b of [...this.buffers.values()]) if (b.readings.length) await this.flush(b, true);
  }

  private async maybeFlush(b: Buffer): Promise<void> {
    const cfg = this.d.batch!;
    if (b.readings.length === 0) return;
    if (this.d.clock.now() - b.firstAt >= cfg.maxDelayMs) return this.flush(b, true);
    if (b.readings.length >= cfg.maxReadings) return this.flush(b, false);
    if (!b.timer && !this.stopped) {
      b.timer = this.d.clock.setTimer(b.firstAt + cfg.maxDelayMs - this.d.clock.now(), () => {
        b.timer = undefined;
        this.flush(b, true).catch((e: unknown) => this.d.emit('error', asDidcommError(e)));
      });
    }
  }

  /** Enqueues full batches (and, with `all`, the partial rest) atomically with their buffer deletes. */
  private flush(b: Buffer, all: boolean): Promise<void> {
    const run = async (): Promise<void> => {
      const max = this.d.batch?.maxReadings ?? 1;
      while (b.readings.length >= max || (all && b.readings.length > 0)) {
        let n = Math.min(max, b.readings.length);
        while (n > 1 && !(await this.fits(b, n))) n--;
        const m = this.withTimes(batch(this.d.newId(), this.d.self, b.peer, b.readings.slice(0, n)));
        await this.d.enqueue(b.peer, m, b.telemetry, b.keys.slice(0, n).map((key) => ({ type: 'delete', key })));
        b.keys.splice(0, n);
        b.readings.splice(0, n);
      }
      b.timer?.cancel();
      b.timer = undefined;
      if (b.readings.length > 0) {
        b.firstAt = Math.min(b.firstAt, this.d.clock.now());
        await this.maybeFlush(b);
      }
    };
    this.flushing = this.flushing.then(run, run);
    return this.flushing;
  }

  /**
   * Whether a batch of the first `n` readings fits the link in one frame even as a late retry
   * (with `sent_count`), so it can never become too large to send once stored.
   */
  private async fits(b: Buffer, n: number): Promise<boolean> {
    const probe = this.withTimes(batch(this.d.newId(), this.d.self, b.peer, b.readings.slice(0, n)));
    probe.sent_count = 65535;
    const size = await this.d.measure(b.peer, probe, b.telemetry).catch(() => undefined);
    return size === undefined || size.bytes <= size.limit;
  }

  private withTimes(m: Message): Message {
    m.created_time = Math.floor(this.d.clock.now() / 1000);
    m.please_ack = [''];
    return m;
  }

  /** Collector: the dispatcher handler for report and batch messages. */
  readonly handleInbound = (inb: InboundMessage): void => {
    if (!inb.sender) throw err('ERR_NOT_AUTHORIZED', 'telemetry is accepted only from authenticated senders');
    const readings = parseReadings(inb.message);
    this.d.emit('telemetry', { from: inb.sender, readings, message: inb.message, signed: inb.meta.nonRepudiation });
  };
}

function checkReadingArg(r: Reading): Reading {
  try {
    return checkReading(r);
  } catch (e) {
    throw err('ERR_ARGUMENT', (e as Error).message);
  }
}

function asDidcommError(e: unknown): DidcommError {
  return isDidcommError(e) ? e : err('ERR_STORE', e instanceof Error ? e.message : String(e), { cause: e });
}
