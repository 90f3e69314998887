/**
 * Group commit: coalesce concurrent writes into one transaction, one fsync, then resolve them all.
 *
 * A durable accept costs one fsync (SQLite WAL sync, PostgreSQL WAL flush); fsyncs per second are
 * limited, so the mailbox stores queue `enqueue` calls here and commit them together. A group is
 * flushed when it reaches `maxItems`, when `maxDelayMs` has passed since its first unit arrived, or
 * at once when the previous commit finishes (whatever queued meanwhile has already waited). Only
 * one commit runs at a time per instance, which also keeps one instance's accepts in FIFO order.
 *
 * Each unit gets its own outcome: `commit` returns, per unit, a result or a DidcommError (e.g. one
 * recipient's quota breach rejects only that unit). If `commit` throws, every unit of the group
 * rejects with that error (wrapped as ERR_STORE). The queue is bounded (`maxPending` → ERR_STORE_FULL)
 * so a stalled database cannot grow memory without limit.
 *
 * Default window 0: flush on the next event-loop turn (`setImmediate`). Everything that arrived in
 * the same turn, or while the previous commit ran, goes into one group — natural batching without
 * added latency. Measured here (2-core VM, 300-byte messages) that beats a fixed 1 ms window at
 * every concurrency (e.g. SQLite 3,200 vs 580 accepts/s for one sequential producer, 16,000 vs
 * 3,900 with 16 concurrent); a window > 0 only helps when arrivals are sparse and fsyncs costly.
 * The window uses real timers (it batches I/O; it is not protocol time), so it does not need a
 * ManualClock to progress.
 */
import { DidcommError, err } from '../errors.js';

export interface GroupCommitOptions {
  /** Longest wait for more units before committing (default 0 = the next event-loop turn). */
  maxDelayMs?: number;
  /** Commit as soon as this many units are queued (default 512). */
  maxItems?: number;
  /** Most units allowed to wait (default 20,000); beyond → ERR_STORE_FULL. */
  maxPending?: number;
}

export type GroupCommitFn<U, R> = (units: readonly U[]) => Promise<ReadonlyArray<R | DidcommError>> | ReadonlyArray<R | DidcommError>;

interface Waiting<U, R> {
  unit: U;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

function positiveInt(v: number | undefined, fallback: number, label: string, min: number): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < min) throw err('ERR_ARGUMENT', `${label}: expected an integer >= ${min}`);
  return v;
}

export class GroupCommit<U, R> {
  private readonly commitFn: GroupCommitFn<U, R>;
  private readonly maxDelayMs: number;
  private readonly maxItems: number;
  private readonly maxPending: number;
  private pending: Array<Waiting<U, R>> = [];
  private running: Promise<void> | undefined;
  private timer: { cancel(): void } | undefined;
  private closed = false;
  /** Number of commits so far (for tests and metrics). */
  commits = 0;

  constructor(commit: GroupCommitFn<U, R>, options: GroupCommitOptions = {}) {
    this.commitFn = commit;
    this.maxDelayMs = positiveInt(options.maxDelayMs, 0, 'maxDelayMs', 0);
    this.maxItems = positiveInt(options.maxItems, 512, 'maxItems', 1);
    this.maxPending = positiveInt(options.maxPending, 20_000, 'maxPending', 1);
  }

  /** Number of units waiting for a commit (not counting the one running). */
  get queued(): number {
    return this.pending.length;
  }

  /** Queues `unit`; resolves with its result once its group has committed. */
  submit(unit: U): Promise<R> {
    if (this.closed) return Promise.reject(err('ERR_STORE', 'store is closed'));
    if (this.pending.length >= this.maxPending) {
      return Promise.reject(err('ERR_STORE_FULL', `write queue full (${this.maxPending} waiting)`));
    }
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ unit, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running) return; // the running commit flushes again when it finishes
    if (this.pending.length >= this.maxItems) {
      this.startFlush();
      return;
    }
    if (this.timer) return;
    if (this.maxDelayMs === 0) {
      const h = setImmediate(() => this.startFlush());
      this.timer = { cancel: () => clearImmediate(h) };
    } else {
      const h = setTimeout(() => this.startFlush(), this.maxDelayMs);
      this.timer = { cancel: () => clearTimeout(h) };
    }
  }

  private startFlush(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.running || this.pending.length === 0) return;
    const group = this.pending.splice(0, this.maxItems);
    this.running = this.run(group).finally(() => {
      this.running = undefined;
      if (this.pending.length > 0) this.startFlush();
    });
  }

  private async run(group: Array<Waiting<U, R>>): Promise<void> {
    this.commits++;
    let results: ReadonlyArray<R | DidcommError>;
    try {
      results = await this.commitFn(group.map((w) => w.unit));
      if (results.length !== group.length) throw err('ERR_STORE', 'group commit returned the wrong number of results');
    } catch (e) {
      const failure = e instanceof DidcommError ? e : err('ERR_STORE', `commit failed: ${String(e)}`, { cause: e });
      for (const w of group) w.reject(failure);
      return;
    }
    group.forEach((w, i) => {
      const r = results[i]!;
      if (r instanceof DidcommError) w.reject(r);
      else w.resolve(r);
    });
  }

  /** Commits everything queued now and waits until it is done. */
  async flush(): Promise<void> {
    while (this.pending.length > 0 || this.running) {
      if (!this.running) this.startFlush();
      await this.running;
    }
  }

  /** Refuses new units, commits the queued ones, and waits for them. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }
}
