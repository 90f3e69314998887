/**
 * In-process fan-out of "new mail for recipient R" events, the local half of a mailbox store's
 * live notifications (message pickup 3.0 live mode: the mediator pushes as soon as mail arrives).
 * Server-backed stores feed it from Redis pub/sub or PostgreSQL LISTEN/NOTIFY; the SQLite and memory
 * stores feed it directly after a commit.
 *
 * A notification means "check this mailbox", never "exactly one new message": listeners may fire
 * spuriously (e.g. after a reconnect, when every listener fires because events may have been
 * missed) and several enqueues may be coalesced into one call. A listener that throws does not stop
 * the others; its error is rethrown asynchronously (as `Emitter` does), never swallowed.
 */

export type MailListener = () => void;

export class RecipientNotifier {
  private readonly listeners = new Map<string, Set<MailListener>>();

  /** Adds a listener for `recipient`; returns the function that removes it (idempotent). */
  subscribe(recipient: string, listener: MailListener): () => void {
    let set = this.listeners.get(recipient);
    if (!set) {
      set = new Set();
      this.listeners.set(recipient, set);
    }
    // Wrap so the same function can be subscribed twice and removed independently.
    const entry: MailListener = () => listener();
    set.add(entry);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      const current = this.listeners.get(recipient);
      if (!current) return;
      current.delete(entry);
      if (current.size === 0) this.listeners.delete(recipient);
    };
  }

  /** Number of recipients with at least one listener. */
  get recipientCount(): number {
    return this.listeners.size;
  }

  hasListeners(recipient: string): boolean {
    return this.listeners.has(recipient);
  }

  /** Calls every listener of `recipient`. */
  notify(recipient: string): void {
    const set = this.listeners.get(recipient);
    if (!set) return;
    for (const l of [...set]) call(l);
  }

  /** Calls every listener of every recipient (after a lost connection: events may have been missed). */
  notifyAll(): void {
    for (const set of [...this.listeners.values()]) for (const l of [...set]) call(l);
  }

  clear(): void {
    this.listeners.clear();
  }
}

function call(listener: MailListener): void {
  try {
    listener();
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}
