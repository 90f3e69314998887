/**
 * Our own mediator's receipts (docs/protocols.md §3, "Held at the mediator"): the id of each
 * authenticated outer forward we sent, mapped to the outbox record it carried, so that the
 * mediator's `ack` of that forward id can hold the record's resends. Bounded: the oldest entries go.
 */
export class MediatorReceipts {
  private readonly map = new Map<string, string>();
  private readonly max: number;

  constructor(max = 1024) {
    this.max = max;
  }

  remember(forwardId: string, recordId: string): void {
    this.map.delete(forwardId);
    this.map.set(forwardId, recordId);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }

  /** The record ids that acknowledged forward ids stand for (each handed out once). */
  take(ids: readonly string[]): string[] {
    const out: string[] = [];
    for (const id of ids) {
      const rec = this.map.get(id);
      if (rec === undefined) continue;
      this.map.delete(id);
      out.push(rec);
    }
    return out;
  }
}
