/**
 * Replays every input the fuzzer ever saved (test/fuzz/findings/<target>/*.bin) and a short fuzz
 * run per target: each input must decode or be rejected with a DidcommError, quickly.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { targets } from './targets.js';
import { mutate } from './mutate.js';
import { createPrng } from '../../src/util/prng.js';
import { DidcommError } from '../../src/errors.js';

async function check(run: (b: Uint8Array) => Promise<void>, input: Uint8Array): Promise<void> {
  try {
    await run(input);
  } catch (e) {
    expect(e).toBeInstanceOf(DidcommError);
  }
}

describe.each(targets)('fuzz target $name', (t) => {
  it('replays saved findings', async () => {
    const dir = new URL(`./findings/${t.name}/`, import.meta.url);
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.bin'))) await check(t.run, new Uint8Array(readFileSync(new URL(f, dir))));
  });

  it('survives 300 mutated inputs with typed errors only', async () => {
    const corpus = await t.seeds();
    const rng = createPrng(12345);
    for (let i = 0; i < 300; i++) await check(t.run, mutate(corpus[rng.int(corpus.length)]!, corpus, rng, 4096));
  });
});
