/**
 * MemoryMailboxStore: the in-memory MailboxStore (tests, simulations, a mediator that may lose
 * its queue on restart). Same semantics as the persistent stores — quotas, expiry, owner-only acks,
 * FIFO, live notifications (this process only) — without durability. Memory is bounded by the
 * per-recipient quotas times the number of recipients that receive mail.
 */
import { MailboxStoreBase } from './mailbox-base.js';
import {
  planQuotas,
  rejectedRecipients,
  unitRecipients,
  type EnqueueUnit,
  type MailboxCounter,
  type MailboxStatus,
  type MailboxStoreOptions,
  type StoredMessage,
} from './mailbox.js';
import { RecipientNotifier } from './notify.js';
import { compareKeys } from './validate.js';

interface Box {
  /** Insertion-ordered: FIFO. */
  messages: Map<string, StoredMessage>;
  count: number;
  bytes: number;
}

function copy(m: StoredMessage): StoredMessage {
  const out: StoredMessage = { id: m.id, bytes: m.bytes.slice(), receivedAt: m.receivedAt };
  if (m.expiresAt !== undefined) out.expiresAt = m.expiresAt;
  return out;
}

function live(m: StoredMessage, now: number): boolean {
  return m.expiresAt === undefined || m.expiresAt > now;
}

export class MemoryMailboxStore extends MailboxStoreBase {
  private readonly boxes = new Map<string, Box>();

  constructor(options: MailboxStoreOptions = {}) {
    super(options, new RecipientNotifier());
  }

  private counters(recipients: Iterable<string>): Map<string, MailboxCounter> {
    const out = new Map<string, MailboxCounter>();
    for (const r of recipients) {
      const b = this.boxes.get(r);
      out.set(r, { count: b?.count ?? 0, bytes: b?.bytes ?? 0 });
    }
    return out;
  }

  private remove(recipient: string, box: Box, id: string): boolean {
    const m = box.messages.get(id);
    if (!m) return false;
    box.messages.delete(id);
    box.count -= 1;
    box.bytes -= m.bytes.length;
    if (box.count === 0) this.boxes.delete(recipient);
    return true;
  }

  private purgeRecipient(recipient: string, now: number): number {
    const box = this.boxes.get(recipient);
    if (!box) return 0;
    let n = 0;
    for (const m of [...box.messages.values()]) if (!live(m, now) && this.remove(recipient, box, m.id)) n++;
    return n;
  }

  protected async store(unit: EnqueueUnit): Promise<void> {
    const units = [unit];
    const recipients = unitRecipients(units);
    let plan = planQuotas(units, this.counters(recipients));
    if (plan[0] !== true) {
      const now = this.clock.now();
      let purged = 0;
      for (const r of rejectedRecipients(units, plan)) purged += this.purgeRecipient(r, now);
      if (purged > 0) plan = planQuotas(units, this.counters(recipients));
    }
    const outcome = plan[0]!;
    if (outcome !== true) throw outcome;
    for (const m of unit.messages) {
      let box = this.boxes.get(m.recipient);
      if (!box) this.boxes.set(m.recipient, (box = { messages: new Map(), count: 0, bytes: 0 }));
      const stored: StoredMessage = { id: m.id, bytes: m.bytes, receivedAt: m.receivedAt };
      if (m.expiresAt !== undefined) stored.expiresAt = m.expiresAt;
      box.messages.set(m.id, stored);
      box.count += 1;
      box.bytes += m.bytes.length;
    }
    for (const r of recipients) this.notifier.notify(r);
  }

  protected async doFetch(recipient: string, limit: number, now: number): Promise<StoredMessage[]> {
    const box = this.boxes.get(recipient);
    const out: StoredMessage[] = [];
    if (!box) return out;
    for (const m of box.messages.values()) {
      if (out.length >= limit) break;
      if (live(m, now)) out.push(copy(m));
    }
    return out;
  }

  protected async doAck(recipient: string, ids: string[]): Promise<number> {
    const box = this.boxes.get(recipient);
    if (!box) return 0;
    let n = 0;
    for (const id of ids) if (this.remove(recipient, box, id)) n++;
    return n;
  }

  protected async doStatus(recipient: string, now: number): Promise<MailboxStatus> {
    const status: MailboxStatus = { messageCount: 0, totalBytes: 0 };
    const box = this.boxes.get(recipient);
    if (!box) return status;
    for (const m of box.messages.values()) {
      if (!live(m, now)) continue;
      status.messageCount += 1;
      status.totalBytes += m.bytes.length;
      status.oldestReceivedAt ??= m.receivedAt;
      status.newestReceivedAt = m.receivedAt;
    }
    return status;
  }

  protected async doPurge(nowMs: number): Promise<number> {
    let n = 0;
    for (const r of [...this.boxes.keys()]) n += this.purgeRecipient(r, nowMs);
    return n;
  }

  protected async doRecipients(limit: number, after: string | undefined): Promise<string[]> {
    const all = [...this.boxes.keys()].filter((r) => after === undefined || compareKeys(r, after) > 0);
    all.sort(compareKeys);
    return all.slice(0, limit);
  }

  protected async shutdown(): Promise<void> {
    this.boxes.clear();
  }
}
