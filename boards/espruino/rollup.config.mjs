/**
 * Espruino bundles, one per board (boards.ts): TypeScript → ES5 with Babel (preset-env for IE 11
 * in loose mode, preset-typescript listed LAST so it runs FIRST; embedded.md §7.3), CommonJS
 * `exports.start`, terser with ecma 5, written to dist/espruino/<board>.js. Espruino built-ins
 * (`require("Storage")`, `require("crypto")`) stay plain require() calls: the sources never
 * import them. The root rollup.config.mjs spreads this default array into its own.
 *
 * Loaded as a module (`require("didcomm")`, or the test harness's `new Function('exports', ...)`)
 * the bundle only exports `start`. Uploaded as the main program (`espruino dist/espruino/x.js`)
 * `exports` does not exist: the intro gives it one and the outro calls `start()`, which reads
 * the Storage file `didcomm.json`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { babel } from '@rollup/plugin-babel';
import terser from '@rollup/plugin-terser';

const here = dirname(fileURLToPath(import.meta.url));
/** Build facts per board (native AES, drivers, size budget, JsVars): boards.json. */
export const ESPRUINO_BOARD_INFO = JSON.parse(readFileSync(resolve(here, 'boards.json'), 'utf8'));
export const ESPRUINO_BOARDS = Object.keys(ESPRUINO_BOARD_INFO);
export const ESPRUINO_OUT_DIR = resolve(here, '../../dist/espruino');

/** Relative `./x.js` imports of the TypeScript sources resolve to `./x.ts` (the repo's import style). */
function tsExtensions() {
  return {
    name: 'espruino-ts-extensions',
    resolveId(source, importer) {
      if (!importer || !source.startsWith('.') || !source.endsWith('.js')) return null;
      const ts = resolve(dirname(importer), source.slice(0, -3) + '.ts');
      return existsSync(ts) ? ts : null;
    },
  };
}

const INTRO = 'var __dcMain=typeof exports!="object";var exports=__dcMain?{}:exports;';
const OUTRO = 'if(__dcMain)exports.start();';

/** The rollup options for one board (also used by test/espruino to build in-process). */
export function espruinoConfig(board, outDir = ESPRUINO_OUT_DIR) {
  return {
    input: resolve(here, `src/entries/${board}.ts`),
    output: {
      file: resolve(outDir, `${board}.js`),
      format: 'cjs',
      exports: 'named',
      esModule: false,
      strict: false,
      generatedCode: 'es5',
      intro: INTRO,
      outro: OUTRO,
    },
    // Entries have side effects (generic registers the AES fallback); library modules do not.
    treeshake: { moduleSideEffects: (id) => id.includes('/entries/') },
    onwarn(warning, warn) {
      if (warning.code === 'CIRCULAR_DEPENDENCY') throw new Error(warning.message);
      warn(warning);
    },
    plugins: [
      tsExtensions(),
      babel({
        babelHelpers: 'bundled',
        extensions: ['.ts', '.js'],
        babelrc: false,
        configFile: false,
        presets: [
          [
            '@babel/preset-env',
            {
              targets: { ie: '11' },
              loose: true,
              modules: false,
              exclude: ['transform-typeof-symbol', 'transform-regenerator', 'transform-async-to-generator', 'transform-classes', 'transform-arrow-functions'],
            },
          ],
          // Listed last so it runs first (presets apply last to first).
          ['@babel/preset-typescript'],
        ],
      }),
      terser({ ecma: 5, compress: { passes: 2 }, mangle: { reserved: ['exports'], properties: { regex: /^_/ } }, format: { comments: false } }),
    ],
  };
}

export default ESPRUINO_BOARDS.map((board) => espruinoConfig(board));
