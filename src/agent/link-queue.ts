/**
 * One send queue per transport (DESIGN.md §5: "radio delivery respects the link's airtime
 * budget"). Jobs go out one at a time, control traffic (acks, problem reports, pickup requests)
 * ahead of data. Before each frame the queue waits out `transport.sendDelay` on the Clock; a send
 * refused with ERR_DUTY_CYCLE is retried after `retryAfterMs` — never dropped. Frames are built
 * lazily when the link is free, so pending acks to one peer coalesce into one message and
 * pairwise sequence numbers are taken in transmission order.
 */
import { err, isDidcommError } from '../errors.js';
import { sleep, type Clock } from '../util/clock.js';
import type { LinkAddress, Transport } from '../../transports/types.js';

/** Builds the frame when the link is free; undefined = nothing to send any more. */
export type FrameBuilder = () => Promise<Uint8Array | undefined>;

export const PRIORITY_CONTROL = 0;
export const PRIORITY_DATA = 1;

interface Job {
  to: LinkAddress | undefined;
  build: FrameBuilder;
  priority: number;
  seq: number;
  resolve: (bytes: number) => void;
  reject: (e: unknown) => void;
}

export interface LinkQueueStats {
  frames: number;
  bytes: number;
  /** Times the queue waited for the duty cycle. */
  dutyWaits: number;
  /** Virtual ms spent waiting for the duty cycle. */
  dutyWaitMs: number;
  failures: number;
}

export interface LinkQueueOptions {
  clock: Clock;
  /** Wait after ERR_DUTY_CYCLE without retryAfterMs (default 1000 ms). */
  defaultRetryAfterMs?: number;
  /** Jobs waiting at most; beyond, send() rejects ERR_STORE_FULL (default 256). */
  maxQueued?: number;
}

export class LinkQueue {
  readonly transport: Transport;
  readonly stats: LinkQueueStats = { frames: 0, bytes: 0, dutyWaits: 0, dutyWaitMs: 0, failures: 0 };
  private readonly clock: Clock;
  private readonly defaultRetryAfterMs: number;
  private readonly maxQueued: number;
  private readonly jobs: Job[] = [];
  private seq = 0;
  private running = false;
  private closed = false;

  constructor(transport: Transport, o: LinkQueueOptions) {
    this.transport = transport;
    this.clock = o.clock;
    this.defaultRetryAfterMs = o.defaultRetryAfterMs ?? 1000;
    this.maxQueued = o.maxQueued ?? 256;
  }

  get queued(): number {
    return this.jobs.length;
  }

  /** Queues a frame; resolves with the bytes sent (0 if the builder had nothing) once the link accepted it. */
  send(to: LinkAddress | undefined, build: FrameBuilder, priority = PRIORITY_DATA): Promise<number> {
    if (this.closed) return Promise.reject(err('ERR_TRANSPORT', 'link queue closed'));
    if (this.jobs.length >= this.maxQueued) return Promise.reject(err('ERR_STORE_FULL', `link queue full (${this.maxQueued} frames)`));
    return new Promise((resolve, reject) => {
      this.jobs.push({ to, build, priority, seq: this.seq++, resolve, reject });
      void this.run();
    });
  }

  /** Accepts jobs again after close() (an agent restarted in the same process). */
  open(): void {
    this.closed = false;
  }

  /** Rejects every queued job with ERR_TRANSPORT. */
  close(): void {
    this.closed = true;
    for (const j of this.jobs.splice(0)) j.reject(err('ERR_TRANSPORT', 'link queue closed'));
  }

  private next(): Job | undefined {
    let best = -1;
    for (let i = 0; i < this.jobs.length; i++) {
      const j = this.jobs[i]!;
      const b = this.jobs[best];
      if (!b || j.priority < b.priority || (j.priority === b.priority && j.seq < b.seq)) best = i;
    }
    return best < 0 ? undefined : this.jobs.splice(best, 1)[0];
  }

  /**
   * Waits once for what `sendDelay` announces. Not a loop: a fragmenting transport reports an
   * estimate that includes its own pacing (never 0); the send's ERR_DUTY_CYCLE is the real gate.
   */
  private async waitForBudget(size: number): Promise<void> {
    const d = this.transport.sendDelay(size);
    if (!(d > 0) || this.closed) return;
    this.stats.dutyWaits++;
    this.stats.dutyWaitMs += d;
    await sleep(this.clock, d);
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        if (this.closed || this.jobs.length === 0) return;
        // Wait for airtime before choosing: a control frame queued meanwhile still goes first.
        await this.waitForBudget(1);
        const job = this.next();
        if (!job) return;
        await this.transmit(job);
      }
    } finally {
      this.running = false;
      if (!this.closed && this.jobs.length > 0) void this.run();
    }
  }

  private async transmit(job: Job): Promise<void> {
    let frame: Uint8Array | undefined;
    try {
      frame = await job.build();
    } catch (e) {
      this.stats.failures++;
      job.reject(e);
      return;
    }
    if (!frame) {
      job.resolve(0);
      return;
    }
    for (;;) {
      if (this.closed) {
        job.reject(err('ERR_TRANSPORT', 'link queue closed'));
        return;
      }
      try {
        await this.transport.send(frame, job.to);
        this.stats.frames++;
        this.stats.bytes += frame.length;
        job.resolve(frame.length);
        return;
      } catch (e) {
        if (isDidcommError(e) && e.code === 'ERR_DUTY_CYCLE') {
          const wait = e.retryAfterMs !== undefined && e.retryAfterMs > 0 ? e.retryAfterMs : this.defaultRetryAfterMs;
          this.stats.dutyWaits++;
          this.stats.dutyWaitMs += wait;
          await sleep(this.clock, wait);
          continue;
        }
        this.stats.failures++;
        job.reject(e);
        return;
      }
    }
  }
}
