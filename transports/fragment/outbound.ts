/**
 * The fragmentation layer's single outbound queue onto the inner frame Transport: one frame on the
 * link at a time, control frames (ACK / REQUEST / PROBE / REFUSE) ahead of data fragments.
 *
 * It respects the inner link's duty cycle (transports/types.ts `sendDelay`, ERR_DUTY_CYCLE with
 * `retryAfterMs`): before each frame it waits out `sendDelay`, and when `send` still rejects with
 * ERR_DUTY_CYCLE it waits `retryAfterMs` on the Clock and sends the same frame again. Nothing is
 * dropped for a duty cycle. Any other rejection fails that frame (its owner decides what follows).
 *
 * It also measures the pacing of back-to-back frames (the time between two acceptances while
 * frames were waiting), which `FragmentTransport.sendDelay` uses to estimate how long a whole
 * message will take on a duty-cycled link.
 */
import { DidcommError, err } from '../../src/errors.js';
import type { Clock, Timer } from '../../src/util/clock.js';
import type { LinkAddress, Transport } from '../types.js';

export interface OutboundFrame {
  /** Builds the bytes when the frame reaches the head of the queue (so queued repairs cost no copy). */
  build(): Uint8Array;
  to: LinkAddress | undefined;
  control: boolean;
  /** True when the frame is no longer wanted (its message settled); it is skipped. */
  cancelled?(): boolean;
  onSent?(): void;
  onFailed?(error: DidcommError): void;
}

export class OutboundQueue {
  /** Frames accepted by the inner link. */
  readonly sent = { control: 0, data: 0 };
  private readonly controls: OutboundFrame[] = [];
  private readonly data: OutboundFrame[] = [];
  private running = false;
  private closed = false;
  private waitTimer: Timer | undefined;
  private wakeWait: (() => void) | undefined;
  private waitingUntil = 0;
  private lastAcceptedAt: number | undefined;
  /** Smoothed ms between back-to-back frame acceptances. */
  private spacing = 0;
  /** Smoothed `sendDelay` the inner link reports right after accepting a frame. */
  private busyAfterFrame = 0;

  private readonly inner: Transport;
  private readonly clock: Clock;
  private readonly defaultRetryAfterMs: number;

  constructor(inner: Transport, clock: Clock, defaultRetryAfterMs: number) {
    this.inner = inner;
    this.clock = clock;
    this.defaultRetryAfterMs = defaultRetryAfterMs;
  }

  get length(): number {
    return this.controls.length + this.data.length;
  }

  /**
   * Ms per frame on this link as observed so far: the larger of the spacing between back-to-back
   * frames and the delay the inner link reports right after a frame (0 on links without a budget).
   */
  get pacingMs(): number {
    return Math.max(this.spacing, this.busyAfterFrame);
  }

  /** Ms left of a duty-cycle wait the queue is sitting in (0 if none). */
  get waitRemainingMs(): number {
    return Math.max(0, this.waitingUntil - this.clock.now());
  }

  push(frame: OutboundFrame): void {
    if (this.closed) {
      frame.onFailed?.(err('ERR_TRANSPORT', 'fragment: transport is closed'));
      return;
    }
    (frame.control ? this.controls : this.data).push(frame);
    if (!this.running) void this.pump();
  }

  /** Fails every queued frame with ERR_TRANSPORT and stops. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.waitTimer?.cancel();
    this.wakeWait?.();
    const closedError = err('ERR_TRANSPORT', 'fragment: transport is closed');
    for (const f of [...this.controls.splice(0), ...this.data.splice(0)]) f.onFailed?.(closedError);
  }

  private async pump(): Promise<void> {
    this.running = true;
    try {
      for (;;) {
        if (this.closed) return;
        const frame = this.controls.shift() ?? this.data.shift();
        if (!frame) {
          this.lastAcceptedAt = undefined;
          return;
        }
        if (frame.cancelled?.()) continue;
        await this.transmit(frame);
      }
    } finally {
      this.running = false;
    }
  }

  private wait(ms: number): Promise<void> {
    this.waitingUntil = this.clock.now() + ms;
    return new Promise((resolve) => {
      const done = (): void => {
        this.wakeWait = undefined;
        this.waitTimer = undefined;
        this.waitingUntil = 0;
        resolve();
      };
      this.wakeWait = done;
      this.waitTimer = this.clock.setTimer(ms, done);
    });
  }

  private async transmit(frame: OutboundFrame): Promise<void> {
    const bytes = frame.build();
    for (;;) {
      if (this.closed) {
        frame.onFailed?.(err('ERR_TRANSPORT', 'fragment: transport is closed'));
        return;
      }
      const delay = this.inner.sendDelay(bytes.length);
      if (delay > 0) {
        await this.wait(delay);
        continue;
      }
      try {
        await this.inner.send(bytes, frame.to);
      } catch (e) {
        if (e instanceof DidcommError && e.code === 'ERR_DUTY_CYCLE') {
          await this.wait(e.retryAfterMs !== undefined && e.retryAfterMs > 0 ? e.retryAfterMs : this.defaultRetryAfterMs);
          continue;
        }
        const error =
          e instanceof DidcommError ? e : err('ERR_TRANSPORT', `fragment: inner send failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        frame.onFailed?.(error);
        return;
      }
      const now = this.clock.now();
      if (this.lastAcceptedAt !== undefined) this.spacing = smooth(this.spacing, now - this.lastAcceptedAt);
      this.busyAfterFrame = smooth(this.busyAfterFrame, this.inner.sendDelay(bytes.length));
      this.lastAcceptedAt = now;
      if (frame.control) this.sent.control++;
      else this.sent.data++;
      frame.onSent?.();
      return;
    }
  }
}

function smooth(average: number, sample: number): number {
  return average === 0 ? sample : 0.75 * average + 0.25 * sample;
}
