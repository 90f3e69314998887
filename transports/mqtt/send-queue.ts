/**
 * The bounded outgoing queue behind MqttTransport's offline buffering.
 *
 * Every frame handed to `send` is held here until the broker acknowledges it (QoS 1 PUBACK): first
 * `queued` (offline, or waiting for an in-flight slot), then `inflight` (published, PUBACK pending).
 * The bound covers both, in frames and in bytes, so memory stays bounded whatever the broker does.
 * A frame over the bound is refused with ERR_STORE_FULL at `enqueue` — never dropped silently.
 * When a connection drops, in-flight frames go back to the head of the queue in their original
 * order and are published again after reconnect (at-least-once, MQTT v5 §4.3.2).
 */
import { err } from '../../src/errors.js';

export interface QueueLimits {
  /** Most frames held (queued + in flight). */
  maxFrames: number;
  /** Most payload bytes held (queued + in flight). */
  maxBytes: number;
}

export interface QueuedItem {
  /** Payload size in bytes, counted against `maxBytes`. */
  readonly size: number;
}

export class BoundedSendQueue<T extends QueuedItem> {
  readonly limits: Readonly<QueueLimits>;
  private queued: Array<{ seq: number; item: T }> = [];
  private readonly flying = new Map<T, number>();
  private heldBytes = 0;
  private seq = 0;

  constructor(limits: QueueLimits) {
    const ok = (n: number): boolean => Number.isInteger(n) && n > 0;
    if (!ok(limits.maxFrames) || !ok(limits.maxBytes)) {
      throw err('ERR_ARGUMENT', 'offline buffer: maxFrames and maxBytes must be positive integers');
    }
    this.limits = { ...limits };
  }

  /** Frames held (queued + in flight). */
  get frames(): number {
    return this.queued.length + this.flying.size;
  }

  /** Bytes held (queued + in flight). */
  get bytes(): number {
    return this.heldBytes;
  }

  get queuedCount(): number {
    return this.queued.length;
  }

  get inflightCount(): number {
    return this.flying.size;
  }

  /** Appends `item`, or throws ERR_STORE_FULL if it would exceed a bound. */
  enqueue(item: T): void {
    if (this.frames + 1 > this.limits.maxFrames) {
      throw err('ERR_STORE_FULL', `offline buffer full: ${this.frames} of ${this.limits.maxFrames} frames held`);
    }
    if (this.heldBytes + item.size > this.limits.maxBytes) {
      throw err('ERR_STORE_FULL', `offline buffer full: ${this.heldBytes} + ${item.size} > ${this.limits.maxBytes} bytes`);
    }
    this.queued.push({ seq: this.seq++, item });
    this.heldBytes += item.size;
  }

  /** Moves the oldest queued item to in flight and returns it. */
  next(): T | undefined {
    const head = this.queued.shift();
    if (!head) return undefined;
    this.flying.set(head.item, head.seq);
    return head.item;
  }

  isInflight(item: T): boolean {
    return this.flying.has(item);
  }

  /** Forgets a finished item (acknowledged, refused or expired), queued or in flight. */
  complete(item: T): void {
    if (this.flying.delete(item)) {
      this.heldBytes -= item.size;
      return;
    }
    const i = this.queued.findIndex((q) => q.item === item);
    if (i >= 0) {
      this.queued.splice(i, 1);
      this.heldBytes -= item.size;
    }
  }

  /** Puts every in-flight item back at the head of the queue, oldest first. */
  requeueInflight(): void {
    if (this.flying.size === 0) return;
    const back = [...this.flying.entries()].map(([item, seq]) => ({ seq, item }));
    this.flying.clear();
    this.queued = [...back, ...this.queued].sort((a, b) => a.seq - b.seq);
  }

  /** Removes and returns everything held (for rejecting on close). */
  drain(): T[] {
    const all = [...this.flying.keys(), ...this.queued.map((q) => q.item)];
    this.flying.clear();
    this.queued = [];
    this.heldBytes = 0;
    return all;
  }
}
