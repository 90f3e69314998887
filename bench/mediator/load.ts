/**
 * Mediator load generation shared by the bench and its worker processes: N simulated devices'
 * forwards (each an anoncrypted forward to the mediator carrying a compact device frame for a
 * registered recipient), registration of the recipients, and a driver that feeds
 * `Mediator.receive` with a fixed number of requests in flight and measures accepted-durably
 * throughput. Benchmarks never assert.
 */
import { randomBytes } from 'node:crypto';
import type { SecretsFile } from '../../src/did/create.js';
import { OfflineResolver } from '../../src/did/resolver.js';
import { SecretsStore } from '../../src/did/secrets.js';
import { nodeBackend } from '../../src/crypto/node.js';
import type { EnvelopeContext } from '../../src/envelope/types.js';
import { wrapInForwards } from '../../src/routing/forward.js';
import { pack } from '../../src/envelope/index.js';
import type { MediationStore } from '../../src/store/mediation.js';
import type { Mediator } from '../../src/mediator/service.js';
import type { MediatorPolicy, Session } from '../../src/mediator/types.js';

/** Generous limits: the bench measures throughput, not the limiter. */
export const BENCH_POLICY: Partial<MediatorPolicy> = {
  senderRate: { perSecond: 10_000_000, burst: 10_000_000 },
  remoteRate: { perSecond: 10_000_000, burst: 10_000_000 },
  mailbox: { maxMessages: 10_000_000, maxBytes: Number.MAX_SAFE_INTEGER },
};

export function contextOf(file: SecretsFile): EnvelopeContext {
  const secrets = new SecretsStore(nodeBackend);
  secrets.addFromJson(file);
  return { crypto: nodeBackend, resolver: new OfflineResolver({ crypto: nodeBackend, documents: [file.didDocument] }), secrets };
}

export function recipientDid(i: number): string {
  return `did:example:device-${i}`;
}

/** Grants mediation to `owners` owners and registers `devices` recipient DIDs among them. */
export async function registerRecipients(mediation: MediationStore, mediatorDid: string, devices: number): Promise<void> {
  const perOwner = 500;
  for (let start = 0; start < devices; start += perOwner) {
    const owner = `did:example:owner-${start / perOwner}`;
    await mediation.grant(owner, mediatorDid);
    const keys: string[] = [];
    for (let i = start; i < Math.min(devices, start + perOwner); i++) keys.push(recipientDid(i));
    await mediation.addKeys(owner, keys);
  }
}

/** A compact device frame of a typical telemetry size (the mediator never opens it). */
function deviceFrame(i: number): Uint8Array {
  const b = randomBytes(72);
  b[0] = 0xe6;
  b.writeUInt32BE(i, 1);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** `count` compact forwards from simulated devices to random registered recipients. */
export async function compactForwards(sender: EnvelopeContext, mediatorKid: string, count: number, devices: number, recipients?: string[]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const recipient = recipients ? recipients[i % recipients.length]! : recipientDid(i % devices);
    out.push(await wrapInForwards(sender, deviceFrame(i), { recipient, routingKeys: [mediatorKid], format: 'compact' }));
  }
  return out;
}

/** `count` standard JSON forwards (anoncrypt ECDH-ES+A256KW over an authcrypt JSON message). */
export async function jsonForwards(sender: EnvelopeContext, senderDid: string, recipient: EnvelopeContext, recipientDid0: string, mediatorKid: string, count: number): Promise<Uint8Array[]> {
  const inner = (await pack(sender, { id: 'bench0001', type: 'https://didcomm.org/telemetry/1.0/report', from: senderDid, to: [recipientDid0], body: { temp: 21.5, hum: 40, ts: 1732250000 } }, { mode: 'authcrypt', to: [recipientDid0], from: senderDid })).bytes;
  void recipient;
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) out.push(await wrapInForwards(sender, inner, { recipient: recipientDid0, routingKeys: [mediatorKid], format: 'json' }));
  return out;
}

export function benchSession(i: number): Session {
  return { id: `bench:${i}`, kind: 'memory', remote: `device-${i}`, persistent: false, duplex: false, maxFrameBytes: 1 << 20, returnRoute: 'none', isOpen: () => false };
}

export interface DriveResult {
  accepted: number;
  refused: number;
  ms: number;
  /** Per-request arrival → durable acceptance latencies (ms), sorted. */
  latencies: number[];
}

/** Feeds every frame to `mediator.receive` with `concurrency` requests in flight. */
export async function drive(mediator: Mediator, frames: Uint8Array[], concurrency: number, devices: number): Promise<DriveResult> {
  let next = 0;
  let accepted = 0;
  let refused = 0;
  const latencies: number[] = [];
  const start = performance.now();
  const worker = async (): Promise<void> => {
    while (next < frames.length) {
      const i = next++;
      const t0 = performance.now();
      const out = await mediator.receive(frames[i]!, benchSession(i % devices));
      if (out.stored) {
        accepted++;
        latencies.push(performance.now() - t0);
      } else refused++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  latencies.sort((a, b) => a - b);
  return { accepted, refused, ms: performance.now() - start, latencies };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
