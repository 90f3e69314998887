/**
 * What every MailboxStore backend shares: argument checks for enqueue/enqueueMany/fetch/ack,
 * the clock and limits, and subscription bookkeeping (a closed store drops its listeners).
 * Backends implement `store(unit)` (durably store one all-or-nothing unit) and the read side.
 */
import { err } from '../errors.js';
import { systemClock, type Clock } from '../util/clock.js';
import {
  checkAckIds,
  DEFAULT_RECIPIENT_PAGE,
  MAX_PAGE,
  prepareMany,
  prepareMessage,
  resolveMailboxLimits,
  resolveMailboxOptions,
  type EnqueueUnit,
  type MailboxEntry,
  type MailboxItem,
  type MailboxLimits,
  type MailboxStatus,
  type MailboxStore,
  type MailboxStoreOptions,
  type RecipientListOptions,
  type ResolvedMailboxOptions,
  type StoredMessage,
} from './mailbox.js';
import type { MailListener, RecipientNotifier } from './notify.js';
import { checkDid, checkPageLimit, checkTime } from './validate.js';

export abstract class MailboxStoreBase implements MailboxStore {
  protected readonly clock: Clock;
  protected readonly resolved: ResolvedMailboxOptions;
  protected readonly notifier: RecipientNotifier;
  private readonly unsubscribers = new Set<() => void>();
  private isClosed = false;

  protected constructor(options: MailboxStoreOptions, notifier: RecipientNotifier) {
    // Whole milliseconds: simulated clocks can be fractional (airtime), stored times and ids must not.
    const clock = options.clock ?? systemClock;
    this.clock = { now: () => Math.floor(clock.now()), setTimer: (ms, fn) => clock.setTimer(ms, fn) };
    this.resolved = resolveMailboxOptions(options);
    this.notifier = notifier;
  }

  /** Durably stores one unit (all its messages or none); rejects with ERR_STORE_FULL on quota. */
  protected abstract store(unit: EnqueueUnit): Promise<void>;
  protected abstract doFetch(recipient: string, limit: number, now: number): Promise<StoredMessage[]>;
  protected abstract doAck(recipient: string, ids: string[]): Promise<number>;
  protected abstract doStatus(recipient: string, now: number): Promise<MailboxStatus>;
  protected abstract doPurge(nowMs: number): Promise<number>;
  protected abstract doRecipients(limit: number, after: string | undefined): Promise<string[]>;
  /** Releases backend resources (called once, after listeners are dropped). */
  protected abstract shutdown(): Promise<void>;

  protected get closed(): boolean {
    return this.isClosed;
  }

  protected checkOpen(): void {
    if (this.isClosed) throw err('ERR_STORE', 'mailbox store is closed');
  }

  async enqueue(recipient: string, item: MailboxItem, limits?: MailboxLimits): Promise<{ id: string }> {
    this.checkOpen();
    const message = prepareMessage(recipient, item, this.clock.now(), this.resolved.maxItemBytes);
    await this.store({ messages: [message], limits: resolveMailboxLimits(limits, this.resolved.limits) });
    return { id: message.id };
  }

  async enqueueMany(items: readonly MailboxEntry[], limits?: MailboxLimits): Promise<Array<{ id: string }>> {
    this.checkOpen();
    const unit = prepareMany(items, this.clock.now(), this.resolved.maxItemBytes, resolveMailboxLimits(limits, this.resolved.limits));
    if (unit.messages.length === 0) return [];
    await this.store(unit);
    return unit.messages.map((m) => ({ id: m.id }));
  }

  async fetch(recipient: string, limit: number): Promise<StoredMessage[]> {
    this.checkOpen();
    const r = checkDid(recipient, 'recipient');
    if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw err('ERR_ARGUMENT', `limit: expected an integer in 1..${MAX_PAGE}`);
    }
    return this.doFetch(r, limit, this.clock.now());
  }

  async ack(recipient: string, ids: readonly string[]): Promise<number> {
    this.checkOpen();
    const r = checkDid(recipient, 'recipient');
    const list = checkAckIds(ids);
    if (list.length === 0) return 0;
    return this.doAck(r, list);
  }

  async status(recipient: string): Promise<MailboxStatus> {
    this.checkOpen();
    return this.doStatus(checkDid(recipient, 'recipient'), this.clock.now());
  }

  async purgeExpired(nowMs: number): Promise<number> {
    this.checkOpen();
    return this.doPurge(checkTime(nowMs, 'nowMs'));
  }

  async recipients(options: RecipientListOptions = {}): Promise<string[]> {
    this.checkOpen();
    if (typeof options !== 'object' || options === null) throw err('ERR_ARGUMENT', 'options: expected an object');
    const limit = checkPageLimit(options.limit, 'limit', DEFAULT_RECIPIENT_PAGE, MAX_PAGE);
    const after = options.after === undefined ? undefined : checkDid(options.after, 'after');
    return this.doRecipients(limit, after);
  }

  subscribe(recipient: string, listener: MailListener): () => void {
    this.checkOpen();
    const r = checkDid(recipient, 'recipient');
    if (typeof listener !== 'function') throw err('ERR_ARGUMENT', 'listener: expected a function');
    const off = this.notifier.subscribe(r, listener);
    const unsubscribe = (): void => {
      off();
      this.unsubscribers.delete(unsubscribe);
    };
    this.unsubscribers.add(unsubscribe);
    return unsubscribe;
  }

  /** Number of live subscriptions held through this store. */
  get subscriptionCount(): number {
    return this.unsubscribers.size;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const off of [...this.unsubscribers]) off();
    await this.shutdown();
  }
}
