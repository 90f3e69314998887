/**
 * What the field simulation counts, per device and in total: readings sent and delivered (exactly
 * once: duplicates are counted, never hidden), commands executed and refused, bytes and airtime
 * on the air, duty-cycle budget left, and the JSON bytes the same messages would have needed.
 */

export interface DeviceMetrics {
  name: string;
  kind: 'node' | 'espruino' | 'field' | 'actuator' | 'controller' | 'gateway' | 'intruder';
  did: string;
  sent: number;
  delivered: number;
  duplicates: number;
  txFrames: number;
  bytesOnAir: number;
  airtimeMs: number;
  /** Airtime left in the rolling hour (EU868 1 %: 36 s). */
  budgetLeftMs: number;
  commandsExecuted: number;
  problemsRefused: number;
  online: boolean;
}

export interface SimSummary {
  sent: number;
  delivered: number;
  duplicates: number;
  lost: number;
  commandsSent: number;
  commandsExecuted: number;
  commandsRefused: number;
  bytesOnAir: number;
  airtimeMs: number;
  /** The readings sent, as standard DIDComm JSON (signed, anoncrypted, one authcrypted forward). */
  jsonBytesEquivalent: number;
  /** One reading as sent (signed, anoncrypted, one authcrypted forward): compact vs JSON. */
  bytesPerReading: { compact: number; json: number };
  /** Controller commands that got no result (timed out or refused). */
  commandsFailed: number;
  /** sent × (JSON − compact bytes per reading): what the compact format saved on the readings alone. */
  readingBytesSaved: number;
  /** Frames put on the air by every radio (all traffic). */
  frames: number;
  /** Receptions lost (a broadcast frame counts once per radio that missed it: loss, collision, half-duplex). */
  receptionsLost: number;
  receptionsCollided: number;
  dutyCycleViolations: number;
  simulatedSeconds: number;
  wallSeconds: number;
  devices: { node: number; espruino: number; field: number; actuator: number };
  /** Radio devices that could not enrol with the mediator (name: reason); normally empty. */
  enrolmentFailures: string[];
  /** Failures in the background (field sync, flushes) that the run did not otherwise report. */
  backgroundErrors: number;
  fieldDevice: { offlineSeconds: number; synced: boolean; syncAttempts: number };
  options: Record<string, unknown>;
  perDevice: Array<Pick<DeviceMetrics, 'name' | 'kind' | 'sent' | 'delivered' | 'duplicates' | 'bytesOnAir' | 'airtimeMs' | 'commandsExecuted' | 'problemsRefused'>>;
}

/** Readings received, keyed by sender and reading id: detects duplicates and losses exactly. */
export class DeliveryLedger {
  private readonly sent = new Map<string, Set<string>>();
  private readonly got = new Map<string, Map<string, number>>();

  recordSent(device: string, readingId: string): void {
    let s = this.sent.get(device);
    if (!s) this.sent.set(device, (s = new Set()));
    s.add(readingId);
  }

  /** Returns true when this is the first delivery of that reading. */
  recordDelivered(device: string, readingId: string): boolean {
    let g = this.got.get(device);
    if (!g) this.got.set(device, (g = new Map()));
    const n = (g.get(readingId) ?? 0) + 1;
    g.set(readingId, n);
    return n === 1;
  }

  sentBy(device: string): number {
    return this.sent.get(device)?.size ?? 0;
  }

  deliveredFrom(device: string): number {
    const g = this.got.get(device);
    if (!g) return 0;
    let n = 0;
    for (const id of g.keys()) if (this.sent.get(device)?.has(id)) n++;
    return n;
  }

  duplicatesFrom(device: string): number {
    let n = 0;
    for (const c of this.got.get(device)?.values() ?? []) n += c - 1;
    return n;
  }

  /** Readings delivered that were never sent (would be a forgery or a bug). */
  unexpected(): number {
    let n = 0;
    for (const [d, g] of this.got) for (const id of g.keys()) if (!this.sent.get(d)?.has(id)) n++;
    return n;
  }

  totals(): { sent: number; delivered: number; duplicates: number } {
    let sent = 0;
    let delivered = 0;
    let duplicates = 0;
    for (const d of this.sent.keys()) {
      sent += this.sentBy(d);
      delivered += this.deliveredFrom(d);
      duplicates += this.duplicatesFrom(d);
    }
    return { sent, delivered, duplicates };
  }
}
