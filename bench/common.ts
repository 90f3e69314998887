/**
 * Shared benchmark helpers: timing loops (ops/s, best of several rounds on this noisy machine),
 * the reference parties and telemetry message, and table printing. Benchmarks never assert.
 */
import { createDid, type SecretsFile } from '../src/did/create.js';
import { OfflineResolver } from '../src/did/resolver.js';
import { SecretsStore } from '../src/did/secrets.js';
import { nodeBackend } from '../src/crypto/node.js';
import type { EnvelopeContext } from '../src/envelope/types.js';
import type { Message } from '../src/message/message.js';

export interface Row {
  name: string;
  unit: string;
  ours: number;
  peer?: number;
  peerName?: string;
  ratio?: number;
  [extra: string]: unknown;
}

export interface BenchOptions {
  quick: boolean;
}

export const parties = { alice: createDid(), bob: createDid(), mediator: createDid() };
const docs = Object.values(parties).map((p) => p.didDocument);

export function contextFor(...holders: SecretsFile[]): EnvelopeContext {
  const secrets = new SecretsStore(nodeBackend);
  for (const h of holders) secrets.addFromJson(h);
  return { crypto: nodeBackend, resolver: new OfflineResolver({ documents: docs }), secrets };
}

/** The reference telemetry message of issue #3 (did:key from/to, 38-byte JSON body). */
export function telemetryMessage(): Message {
  return {
    id: '0a1b2c3d4e5f',
    type: 'https://didcomm.org/telemetry/1.0/report',
    from: parties.alice.did,
    to: [parties.bob.did],
    created_time: 1732250000,
    body: { temp: 21.5, hum: 40, ts: 1732250000 },
  };
}

/** One timed round of at least `minMs`: ops/s. */
async function timedRound(fn: () => unknown, minMs: number): Promise<number> {
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let i = 0; i < 20; i++) await fn();
    n += 20;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return (n * 1000) / elapsed;
}

/** ops/s: the best of `rounds` timed rounds of at least `minMs` each, after a warm-up. */
export async function opsPerSecond(fn: () => unknown, o: BenchOptions): Promise<number> {
  const [best] = await opsPerSecondEach([fn], o);
  return best!;
}

/**
 * ops/s of several functions whose ratio is reported: their rounds are interleaved (a, b, a, b, …)
 * and each keeps its best, so a noisy neighbour slows all of them alike instead of whichever happened
 * to be measured at that moment.
 */
export async function opsPerSecondEach(fns: Array<() => unknown>, o: BenchOptions): Promise<number[]> {
  const rounds = o.quick ? 2 : 6;
  const minMs = o.quick ? 150 : 500;
  for (const fn of fns) for (let i = 0; i < 50; i++) await fn();
  const best = fns.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    for (const [k, fn] of fns.entries()) best[k] = Math.max(best[k]!, await timedRound(fn, minMs));
  }
  return best.map(Math.round);
}

export function printTable(title: string, rows: Row[], columns: string[]): void {
  const cells = rows.map((r) => columns.map((c) => fmt(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) => vals.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  console.log(`\n${title}`);
  console.log(line(columns));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of cells) console.log(line(row));
}

function fmt(v: unknown): string {
  if (v === undefined || v === null) return '-';
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(v < 10 ? 2 : 1);
  return String(v);
}
