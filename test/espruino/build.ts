/**
 * Builds the Espruino bundles for the tests with the real rollup config
 * (boards/espruino/rollup.config.mjs), once per source state: the output goes to a temp
 * directory named by a hash of the sources, so parallel test files share one build and
 * dist/ is left alone. A finished build is moved into place atomically.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { rollup, type RollupOptions, type OutputOptions } from 'rollup';

const ROOT = resolve(import.meta.dirname, '../..');
const BOARD_DIR = join(ROOT, 'boards/espruino');

interface RollupConfigModule {
  ESPRUINO_BOARDS: string[];
  espruinoConfig(board: string, outDir: string): RollupOptions & { output: OutputOptions };
}

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (/\.(ts|mjs|json)$/.test(name)) out.push(p);
  }
  return out;
}

export const BOARD_NAMES = Object.keys(JSON.parse(readFileSync(join(BOARD_DIR, 'boards.json'), 'utf8')) as Record<string, unknown>);

let built: Promise<string> | undefined;

/** The directory holding `<board>.js` for every board, built if the sources changed. */
export function ensureEspruinoBuilt(): Promise<string> {
  built ??= (async () => {
    const hash = createHash('sha256');
    for (const f of files(BOARD_DIR)) hash.update(f).update(readFileSync(f));
    const dir = join(tmpdir(), `didcomm-espruino-${hash.digest('hex').slice(0, 16)}`);
    if (BOARD_NAMES.every((b) => existsSync(join(dir, `${b}.js`)))) return dir;
    const configPath = join(BOARD_DIR, 'rollup.config.mjs');
    const mod = (await import(configPath)) as RollupConfigModule;
    const staging = mkdtempSync(join(tmpdir(), 'didcomm-espruino-build-'));
    await Promise.all(
      mod.ESPRUINO_BOARDS.map(async (board) => {
        const config = mod.espruinoConfig(board, staging);
        const bundle = await rollup({ ...config, onwarn: () => {} });
        await bundle.write(config.output);
        await bundle.close();
      }),
    );
    try {
      renameSync(staging, dir);
    } catch {
      // Another test process finished the same build first.
      rmSync(staging, { recursive: true, force: true });
    }
    return dir;
  })();
  return built;
}

export function bundleCode(dir: string, board: string): string {
  return readFileSync(join(dir, `${board}.js`), 'utf8');
}
