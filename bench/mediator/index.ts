/**
 * Mediator load benchmark (not a test; never asserts). N simulated devices send compact forwards
 * (anoncrypted to the mediator, carrying a device frame for a registered recipient):
 * - forwards/s accepted durably by one instance on the embedded SQLite store (own process), with
 *   p50/p99 arrival → durable latency and RSS, for 100 and 10,000 devices;
 * - p50/p99 accept-to-deliver latency: arrival of a forward → `delivery` pushed to the recipient's
 *   live-mode session;
 * - one and two instances (two processes, two cores) on the PostgreSQL store when DATABASE_URL is
 *   set;
 * - standard JSON forwards accepted durably vs didcomm-node's `Message.unpack` of the same
 *   envelopes, measured in the same run.
 *
 *   node --import tsx bench/mediator/index.ts [--quick]     (prints a table, writes bench/mediator/results.json)
 * `runMediatorBench({quick})` returns the rows for `npm run bench`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDid } from '../../src/did/create.js';
import { Mediator } from '../../src/mediator/service.js';
import { openMediatorStores } from '../../src/mediator/stores.js';
import { liveDeliveryChange } from '../../src/protocols/pickup.js';
import { PeerMessage, peerResolvers } from '../../test/helpers/didcomm-node.js';
import { printTable, type Row } from '../common.js';
import { BENCH_POLICY, compactForwards, contextOf, drive, jsonForwards, percentile, registerRecipients } from './load.js';

const DATABASE_URL = process.env.DATABASE_URL;
const root = fileURLToPath(new URL('../../', import.meta.url));
const progress = (line: string): void => void process.stderr.write(`${line}\n`);

interface WorkerResult {
  accepted: number;
  refused: number;
  ms: number;
  p50: number;
  p99: number;
  rssMB: number;
}

interface WorkerProcess {
  child: ChildProcess;
  result: Promise<WorkerResult>;
}

/**
 * Starts one worker and waits for READY; a worker silent for 90 s is killed and started again
 * (3 attempts) — a guard for an overloaded machine (the Node 20 keygen/JWK-export deadlock is
 * avoided by the node crypto backend itself, src/crypto/node.ts).
 */
async function startWorker(cfg: Record<string, unknown>): Promise<WorkerProcess> {
  for (let attempt = 0; ; attempt++) {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./worker.ts', import.meta.url)), JSON.stringify(cfg)], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const ready = await new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => resolve(false), 90_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('READY\n')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`bench worker exited ${code}`));
      });
    });
    if (ready) {
      const result = exited.then(() => {
        const m = /RESULT (.*)\n/u.exec(out);
        if (!m) throw new Error('bench worker gave no result');
        return JSON.parse(m[1]!) as WorkerResult;
      });
      return { child, result };
    }
    child.kill('SIGKILL');
    await exited;
    if (attempt >= 2) throw new Error('bench worker did not start');
    progress('  a worker did not start in 90 s; starting it again');
  }
}

/** Runs `n` worker processes against one store, starts them together, sums their throughput. */
async function workers(n: number, o: { store: string; secrets: string; count: number; devices: number; dataDir: string }): Promise<{ rate: number; p50: number; p99: number; rssMB: number }> {
  const procs = await Promise.all(Array.from({ length: n }, (_, i) => startWorker({ ...o, count: Math.ceil(o.count / n) + 500, concurrency: 128, instance: `w${i}` })));
  progress(`  ${n} worker(s) ready on ${o.store.split('?')[0]}`);
  for (const p of procs) p.child.stdin!.write('GO\n');
  const results = await Promise.all(procs.map((p) => p.result));
  const accepted = results.reduce((s, r) => s + r.accepted, 0);
  const ms = Math.max(...results.map((r) => r.ms));
  return { rate: Math.round((accepted * 1000) / ms), p50: Math.max(...results.map((r) => r.p50)), p99: Math.max(...results.map((r) => r.p99)), rssMB: Math.max(...results.map((r) => r.rssMB)) };
}

async function registerIn(store: string, dataDir: string, did: string, devices: number): Promise<void> {
  const stores = await openMediatorStores(store, { dataDir });
  await registerRecipients(stores.mediation, did, devices);
  await stores.close();
}

/** Arrival of a forward → delivery pushed on the recipient's live session. */
async function liveLatency(dir: string, count: number, recipients: number): Promise<{ p50: number; p99: number }> {
  const med = createDid();
  const ctx = contextOf(med);
  const stores = await openMediatorStores(`sqlite:${join(dir, 'live.db')}`, { dataDir: dir, instance: 'live' });
  const mediator = await Mediator.create({ did: med.did, ctx, stores, policy: BENCH_POLICY });
  // every recipient is a device (did:key) with its own live session; deliveries are authcrypted to it
  const owners = Array.from({ length: recipients }, () => createDid().did);
  let pushes = 0;
  let lastPush = 0;
  for (const [i, owner] of owners.entries()) {
    await stores.mediation.grant(owner, med.did);
    await stores.mediation.addKeys(owner, [owner]);
    const session = { id: `live:${i}`, kind: 'ws' as const, remote: `live:${i}`, persistent: true, duplex: false, maxFrameBytes: 1 << 20, returnRoute: 'all' as const, isOpen: () => true, push: async () => void ((pushes += 1), (lastPush = performance.now())) };
    await mediator.live.enable(session, owner, [owner], { format: 'compact', mode: 'authcrypt' }, liveDeliveryChange(`live-${i}`, owner, med.did, true));
  }
  const frames = await compactForwards(contextOf(createDid()), ctx.resolver.keyAgreementKeys(med.did)[0]!.kid, count, recipients, owners);
  // one forward at a time, so the latency is not queueing behind a burst
  const latencies: number[] = [];
  for (let i = 0; i < frames.length; i++) {
    const before = pushes;
    const t0 = performance.now();
    await mediator.receive(frames[i]!, { id: `d${i}`, kind: 'memory', remote: `d${i % recipients}`, persistent: false, duplex: false, maxFrameBytes: 1 << 20, returnRoute: 'none', isOpen: () => false });
    while (pushes === before && performance.now() - t0 < 1000) await new Promise((r) => setTimeout(r, 0));
    if (pushes > before) latencies.push(lastPush - t0);
  }
  mediator.close();
  await stores.close();
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** JSON forwards accepted durably (in process, SQLite) vs didcomm-node unpacking the same envelopes. */
async function jsonVsPeer(dir: string, count: number): Promise<{ ours: number; peer: number }> {
  const med = createDid();
  const sender = createDid();
  const recipient = createDid();
  const ctx = contextOf(med);
  const stores = await openMediatorStores(`sqlite:${join(dir, 'json.db')}`, { dataDir: dir, instance: 'json' });
  await stores.mediation.grant(recipient.did, med.did);
  await stores.mediation.addKeys(recipient.did, [recipient.did]);
  const mediator = await Mediator.create({ did: med.did, ctx, stores, policy: BENCH_POLICY });
  const senderCtx = contextOf(sender);
  senderCtx.resolver.keyAgreementKeys(recipient.did);
  const frames = await jsonForwards(senderCtx, sender.did, contextOf(recipient), recipient.did, ctx.resolver.keyAgreementKeys(med.did)[0]!.kid, count);
  const { didResolver, secretsResolver } = peerResolvers([med.didDocument, sender.didDocument, recipient.didDocument], med.secrets);
  const texts = frames.map((f) => new TextDecoder().decode(f));
  await drive(mediator, frames.slice(0, 200), 64, 1);
  for (let i = 0; i < 50; i++) await PeerMessage.unpack(texts[i], didResolver, secretsResolver, {});
  // Interleaved rounds (ours on fresh frames, then didcomm-node on the same number), best of each, so
  // both sides see the same machine noise.
  const rounds = 4;
  const per = Math.floor((frames.length - 200) / rounds);
  let ours = 0;
  let peer = 0;
  for (let k = 0; k < rounds; k++) {
    const chunk = frames.slice(200 + k * per, 200 + (k + 1) * per);
    const r = await drive(mediator, chunk, 64, 1);
    ours = Math.max(ours, (r.accepted * 1000) / r.ms);
    const n = Math.min(per, 1500);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await PeerMessage.unpack(texts[200 + k * per + i]!, didResolver, secretsResolver, {});
    peer = Math.max(peer, (n * 1000) / (performance.now() - t0));
  }
  mediator.close();
  await stores.close();
  return { ours: Math.round(ours), peer: Math.round(peer) };
}

export async function runMediatorBench(o: { quick: boolean }): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'mediator-bench-'));
  const rows: Row[] = [];
  try {
    const med = createDid();
    const secrets = join(dir, 'mediator-secrets.json');
    writeFileSync(secrets, JSON.stringify(med), { mode: 0o600 });
    const count = o.quick ? 4000 : 20_000;
    for (const devices of o.quick ? [100] : [100, 10_000]) {
      const sub = join(dir, `sqlite-${devices}`);
      mkdirSync(sub);
      const store = `sqlite:${join(sub, 'mailbox.db')}`;
      await registerIn(store, sub, med.did, devices);
      const r = await workers(1, { store, secrets, count, devices, dataDir: sub });
      rows.push({ name: `compact forwards accepted durably, 1 instance, SQLite, ${devices} devices`, unit: 'forwards/s', ours: r.rate, p50Ms: r.p50, p99Ms: r.p99, rssMB: r.rssMB });
    }
    progress('  live-mode latency...');
    const live = await liveLatency(dir, o.quick ? 300 : 2000, o.quick ? 100 : 1000);
    rows.push({ name: 'accept-to-deliver latency (arrival → live-mode push), p50', unit: 'ms', ours: live.p50, p50Ms: live.p50, p99Ms: live.p99 });
    if (DATABASE_URL) {
      const schema = `med_bench_${process.pid}`;
      const url = new URL(DATABASE_URL);
      url.searchParams.set('schema', schema);
      const devices = o.quick ? 100 : 10_000;
      await registerIn(url.toString(), dir, med.did, devices);
      const one = await workers(1, { store: url.toString(), secrets, count, devices, dataDir: dir });
      const two = await workers(2, { store: url.toString(), secrets, count: count * 2, devices, dataDir: dir });
      rows.push({ name: `compact forwards accepted durably, 1 instance, PostgreSQL, ${devices} devices`, unit: 'forwards/s', ours: one.rate, p50Ms: one.p50, p99Ms: one.p99, rssMB: one.rssMB });
      rows.push({ name: `compact forwards accepted durably, 2 instances, PostgreSQL, ${devices} devices`, unit: 'forwards/s', ours: two.rate, peer: one.rate, peerName: '1 instance', ratio: Number((two.rate / one.rate).toFixed(2)), p50Ms: two.p50, p99Ms: two.p99, rssMB: two.rssMB });
      const pg = (await import('pg')).default;
      const c = new pg.Client({ connectionString: DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    } else {
      rows.push({ name: 'two instances on PostgreSQL: skipped (set DATABASE_URL)', unit: '-', ours: 0 });
    }
    progress('  JSON forwards vs didcomm-node...');
    const j = await jsonVsPeer(dir, o.quick ? 1500 : 6000);
    rows.push({ name: 'JSON forwards accepted durably vs didcomm-node unpack', unit: 'ops/s', ours: j.ours, peer: j.peer, peerName: 'didcomm-node 0.4.1 Message.unpack', ratio: Number((j.ours / j.peer).toFixed(2)) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const quick = process.argv.includes('--quick');
  const rows = await runMediatorBench({ quick });
  printTable('Mediator load (forwards/s accepted durably; latencies in ms)', rows, ['name', 'unit', 'ours', 'peer', 'ratio', 'p50Ms', 'p99Ms', 'rssMB']);
  writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), node: process.version, quick, rows }, null, 2) + '\n');
}
