/**
 * `npm run fuzz -- [--iterations N] [--seed S] [--target NAME] [--max-ms MS]`: a bounded mutation
 * fuzzer over every decoder (test/fuzz/targets.ts). Each iteration mutates a corpus entry and runs
 * the target; a non-DidcommError exception, an uncaught error, or a run slower than --max-ms is a
 * finding, saved under test/fuzz/findings/<target>/<sha256>.bin — and replayed forever after by
 * test/fuzz/regressions.test.ts. Prints iterations, rejections, findings and RSS per target.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { targets, MAX_INPUT, type FuzzTarget } from '../test/fuzz/targets.js';
import { mutate } from '../test/fuzz/mutate.js';
import { createPrng } from '../src/util/prng.js';
import { DidcommError } from '../src/errors.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : (argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
};
const iterations = Number(opt('iterations', '100000'));
const seed = Number(opt('seed', String(Date.now() % 1e9)));
const only = opt('target', '');
const maxMs = Number(opt('max-ms', '250'));

let uncaught: unknown;
process.on('uncaughtException', (e) => {
  uncaught = e;
});

interface Stats {
  runs: number;
  accepted: number;
  rejected: number;
  findings: number;
  slowestMs: number;
  codes: Map<string, number>;
}

function save(target: string, input: Uint8Array, why: string): string {
  const hash = createHash('sha256').update(input).digest('hex').slice(0, 16);
  const dir = new URL(`../test/fuzz/findings/${target}/`, import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL(`${hash}.bin`, dir), input);
  writeFileSync(new URL(`${hash}.txt`, dir), why + '\n');
  return hash;
}

async function fuzz(t: FuzzTarget, n: number, rngSeed: number): Promise<Stats> {
  const rng = createPrng(rngSeed);
  const corpus = await t.seeds();
  const s: Stats = { runs: 0, accepted: 0, rejected: 0, findings: 0, slowestMs: 0, codes: new Map() };
  for (let i = 0; i < n; i++) {
    const base = corpus[rng.int(corpus.length)]!;
    const input = rng.int(50) === 0 ? base : mutate(base, corpus, rng, MAX_INPUT);
    const start = performance.now();
    let problem: string | undefined;
    try {
      await t.run(input);
      s.accepted++;
      // Inputs that decode are interesting: keep a bounded number to mutate further.
      if (corpus.length < 2000 && rng.int(8) === 0) corpus.push(input);
    } catch (e) {
      if (e instanceof DidcommError) {
        s.rejected++;
        s.codes.set(e.code, (s.codes.get(e.code) ?? 0) + 1);
      } else problem = `crash: ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`;
    }
    const ms = performance.now() - start;
    s.slowestMs = Math.max(s.slowestMs, ms);
    if (!problem && ms > maxMs) problem = `slow: ${ms.toFixed(1)} ms (limit ${maxMs})`;
    if (!problem && uncaught) {
      problem = `uncaught: ${String(uncaught)}`;
      uncaught = undefined;
    }
    if (problem) {
      s.findings++;
      const id = save(t.name, input, problem);
      console.error(`FINDING ${t.name} ${id}: ${problem.split('\n')[0]}`);
    }
    s.runs++;
  }
  return s;
}

const chosen = targets.filter((t) => !only || t.name === only);
if (chosen.length === 0) {
  console.error(`unknown target ${only}; targets: ${targets.map((t) => t.name).join(', ')}`);
  process.exit(2);
}
const per = Math.ceil(iterations / chosen.length);
console.log(`fuzzing ${chosen.length} targets, ${per} iterations each, seed ${seed}`);
let total = 0;
let findings = 0;
const started = Date.now();
for (const [i, t] of chosen.entries()) {
  const s = await fuzz(t, per, seed + i);
  total += s.runs;
  findings += s.findings;
  const codes = [...s.codes.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([c, n]) => `${c}:${n}`).join(' ');
  console.log(`${t.name.padEnd(15)} runs ${String(s.runs).padStart(8)}  accepted ${String(s.accepted).padStart(7)}  rejected ${String(s.rejected).padStart(8)}  findings ${s.findings}  slowest ${s.slowestMs.toFixed(1)} ms  ${codes}`);
}
const rss = Math.round(process.memoryUsage().rss / 1048576);
console.log(`total ${total} iterations in ${((Date.now() - started) / 1000).toFixed(1)} s, ${findings} findings, RSS ${rss} MB`);
process.exit(findings ? 1 : 0);
