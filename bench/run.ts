/**
 * `npm run bench`: throughput, sizes and the LoRa link table (and the mediator load test when
 * present). Prints tables; `--json` prints one JSON object instead, whose sections are arrays of
 * rows `{name, unit, ours, peer?, peerName?, ratio?, ...}`; `--quick` keeps the run short (~30 s).
 * Results are also written to bench/results/latest.json. Benchmarks never assert anything.
 */
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { printTable, type Row } from './common.js';
import { throughput } from './throughput.js';
import { sizes } from './sizes.js';
import { link } from './link.js';

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const json = args.has('--json');
const only = process.argv.slice(2).find((a) => a.startsWith('--only='))?.slice(7).split(',');
const want = (s: string) => !only || only.includes(s);

const result: Record<string, Row[] | Record<string, unknown>> = {
  meta: { date: new Date().toISOString(), node: process.version, quick, cpus: (await import('node:os')).cpus().length },
};
const log = (...a: unknown[]) => {
  if (!json) console.log(...a);
};

if (want('sizes')) {
  result.sizes = await sizes();
  if (!json) printTable('Sizes of the telemetry message (bytes; ours = compact with hints for known peers)', result.sizes as Row[], ['name', 'ours', 'oursFirstContact', 'floor', 'peer', 'ratio', 'airtimeMsSF7', 'airtimeMsSF12', 'peerAirtimeMsSF12']);
}
if (want('link')) {
  result.link = await link();
  if (!json) printTable('LoRa link: frames, airtime (ms) and messages/hour under the EU868 1 % duty cycle', result.link as Row[], ['name', 'bytes', 'frames', 'airtimeMsSF7', 'airtimeMsSF9', 'airtimeMsSF12', 'perHourSF7', 'perHourSF9', 'perHourSF12']);
}
if (want('throughput')) {
  log('\nmeasuring throughput (best of several rounds)...');
  result.throughput = await throughput({ quick });
  if (!json) printTable('Throughput (ops/s; peer = didcomm-node 0.4.1 in this same run)', result.throughput as Row[], ['name', 'ours', 'peer', 'ratio']);
}
const mediatorBench = new URL('./mediator/index.ts', import.meta.url);
if (want('mediator') && existsSync(mediatorBench)) {
  log('\nrunning the mediator load test...');
  const mod = (await import(mediatorBench.href)) as { runMediatorBench(o: { quick: boolean }): Promise<Row[]> };
  result.mediator = await mod.runMediatorBench({ quick });
  if (!json) printTable('Mediator load', result.mediator as Row[], ['name', 'unit', 'ours', 'peer', 'ratio']);
}
const rss = process.memoryUsage().rss;
(result.meta as Record<string, unknown>).peakRssMB = Math.round(rss / 1048576);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/latest.json', import.meta.url), JSON.stringify(result, null, 2) + '\n');
if (json) console.log(JSON.stringify(result));
