/**
 * Requests waiting for their reply (trust ping, discover-features, commands, pickup, mediation):
 * keyed by thread id (DIDComm v2.1 §Threads — a reply carries the request's id as `thid`), bound
 * to the peer that must answer, with a timeout on the Clock. A problem report whose `pthid` names
 * the thread rejects the waiter. Bounded.
 */
import { err, type DidcommError } from '../errors.js';
import type { Clock, Timer } from '../util/clock.js';
import type { Message } from '../message/message.js';

interface Waiter {
  peer: string;
  accept: (m: Message) => boolean;
  resolve: (m: Message) => void;
  reject: (e: DidcommError) => void;
  timer: Timer;
}

export class Waiters {
  private readonly clock: Clock;
  private readonly max: number;
  private readonly waiting = new Map<string, Waiter>();

  constructor(clock: Clock, max = 256) {
    this.clock = clock;
    this.max = max;
  }

  get size(): number {
    return this.waiting.size;
  }

  /** Waits for a message from `peer` threaded to `thid` that `accept` takes (default: any). */
  wait(thid: string, peer: string, timeoutMs: number, accept: (m: Message) => boolean = () => true): Promise<Message> {
    if (this.waiting.size >= this.max) return Promise.reject(err('ERR_RATE_LIMITED', `too many requests waiting (${this.max})`));
    if (this.waiting.has(thid)) return Promise.reject(err('ERR_ARGUMENT', `already waiting for thread ${thid}`));
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimer(timeoutMs, () => {
        this.waiting.delete(thid);
        reject(err('ERR_TIMEOUT', `no reply to ${thid} within ${timeoutMs} ms`));
      });
      this.waiting.set(thid, { peer, accept, resolve, reject, timer });
    });
  }

  /** Hands `m` (from authenticated `sender`) to the waiter of its thread. True if one took it. */
  deliver(m: Message, sender: string | undefined): boolean {
    const thid = m.thid;
    if (thid === undefined) return false;
    const w = this.waiting.get(thid);
    if (!w || w.peer !== sender || !w.accept(m)) return false;
    this.waiting.delete(thid);
    w.timer.cancel();
    w.resolve(m);
    return true;
  }

  /** A problem report from `sender` about thread `pthid`. */
  fail(pthid: string, sender: string | undefined, e: DidcommError): boolean {
    const w = this.waiting.get(pthid);
    if (!w || w.peer !== sender) return false;
    this.waiting.delete(pthid);
    w.timer.cancel();
    w.reject(e);
    return true;
  }

  /** Rejects everything (agent stopping). */
  cancelAll(e: DidcommError): void {
    for (const [k, w] of this.waiting) {
      this.waiting.delete(k);
      w.timer.cancel();
      w.reject(e);
    }
  }
}
