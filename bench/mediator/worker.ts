/**
 * One mediator instance of the load benchmark, in its own process (so two instances use two
 * cores): opens the store, builds its share of the simulated devices' forwards, prints `READY`,
 * waits for `GO` on standard input, feeds the forwards to `Mediator.receive`, prints
 * `RESULT {json}` and exits.
 *
 *   node --import tsx bench/mediator/worker.ts '{"store": ..., "secrets": PATH, "count": N, ...}'
 */
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import type { SecretsFile } from '../../src/did/create.js';
import { createDid } from '../../src/did/create.js';
import { Mediator } from '../../src/mediator/service.js';
import { openMediatorStores } from '../../src/mediator/stores.js';
import { BENCH_POLICY, compactForwards, contextOf, drive, percentile } from './load.js';

interface WorkerConfig {
  store: string;
  secrets: string;
  count: number;
  devices: number;
  concurrency: number;
  dataDir: string;
  instance: string;
}

const cfg = JSON.parse(process.argv[2]!) as WorkerConfig;
const med = JSON.parse(readFileSync(cfg.secrets, 'utf8')) as SecretsFile;
const ctx = contextOf(med);
const stores = await openMediatorStores(cfg.store, { dataDir: cfg.dataDir, instance: cfg.instance, poolSize: 8 });
const mediator = await Mediator.create({ did: med.did, ctx, stores, policy: BENCH_POLICY });
const kid = ctx.resolver.keyAgreementKeys(med.did)[0]!.kid;
const frames = await compactForwards(contextOf(createDid()), kid, cfg.count, cfg.devices);
await drive(mediator, frames.slice(0, Math.min(500, frames.length)), cfg.concurrency, cfg.devices); // warm-up
const timed = frames.slice(Math.min(500, frames.length));
process.stdout.write('READY\n');
const rl = createInterface({ input: process.stdin });
for await (const line of rl) if (line.trim() === 'GO') break;
const r = await drive(mediator, timed, cfg.concurrency, cfg.devices);
const result = { accepted: r.accepted, refused: r.refused, ms: r.ms, p50: percentile(r.latencies, 50), p99: percentile(r.latencies, 99), rssMB: Math.round(process.memoryUsage().rss / 1048576) };
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
mediator.close();
await stores.close();
process.exit(0);
