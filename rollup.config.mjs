/**
 * Build of the didcomm-iot Node library and the `didcomm-iot` command (DESIGN §2): ESM bundles in
 * dist/ (one per public subpath: `.`, `./envelope`, `./did`, `./crypto/noble`, `./crypto/node`,
 * `./cbor`, `./transports/*`, `./store` when it exists, `./cli`) with `.d.ts` in dist/types/.
 * Every bare import (node:*, @noble/*, serialport, mqtt, ws, better-sqlite3, pg, ioredis,
 * @stoprocent/noble...) stays external: they are dependencies of the package, resolved by Node.
 *
 * Board bundles are built by their own configs, spread in when present: boards/espruino and
 * boards/raspberry-pi `rollup.config.mjs` (default export: an array of rollup configs).
 * `DIDCOMM_BUILD=node` builds the Node library only (what the test suite uses when dist is stale).
 * Prints a size table of the entries after each build.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import typescript from '@rollup/plugin-typescript';

const root = import.meta.dirname;
const at = (p) => join(root, p);

/** Public subpath → source entry. */
function nodeEntries() {
  const entries = {
    index: 'src/index.ts',
    envelope: 'src/entries/envelope.ts',
    did: 'src/entries/did.ts',
    'crypto/noble': 'src/entries/crypto-noble.ts',
    'crypto/node': 'src/entries/crypto-node.ts',
    cbor: 'src/entries/cbor.ts',
    agent: 'src/agent/index.ts',
    mediator: 'src/mediator/index.ts',
    cli: 'src/cli/index.ts',
    'transports/memory': 'transports/memory.ts',
  };
  for (const d of readdirSync(at('transports'), { withFileTypes: true })) {
    if (d.isDirectory() && existsSync(at(`transports/${d.name}/index.ts`))) entries[`transports/${d.name}`] = `transports/${d.name}/index.ts`;
  }
  if (existsSync(at('src/store/index.ts'))) entries.store = 'src/store/index.ts';
  return entries;
}

/** Removes what a previous Node build left that this one may not overwrite. */
function cleanNodeOutput() {
  return {
    name: 'clean-node-output',
    buildStart() {
      for (const d of ['dist/chunks', 'dist/types']) rmSync(at(d), { recursive: true, force: true });
    },
  };
}

const kb = (n) => (n / 1024).toFixed(1).padStart(8);

/**
 * Prints, for each entry, its own size and the size of everything `import`ing it loads
 * (the entry plus its static chunk imports), raw and gzipped.
 */
export function sizeReport(label) {
  return {
    name: 'size-report',
    writeBundle(options, bundle) {
      const chunks = Object.values(bundle).filter((f) => f.type === 'chunk');
      const byName = new Map(chunks.map((c) => [c.fileName, c]));
      const closure = (c, seen = new Set()) => {
        if (seen.has(c.fileName)) return seen;
        seen.add(c.fileName);
        for (const i of c.imports) if (byName.has(i)) closure(byName.get(i), seen);
        return seen;
      };
      const outDir = relative(root, options.dir ?? dirname(options.file ?? '.')) || '.';
      const rows = chunks
        .filter((c) => c.isEntry)
        .sort((a, b) => a.fileName.localeCompare(b.fileName))
        .map((c) => {
          const code = [...closure(c)].map((f) => byName.get(f).code).join('\n');
          return [join(outDir, c.fileName), kb(Buffer.byteLength(c.code)), kb(Buffer.byteLength(code)), kb(gzipSync(code).length)];
        });
      if (rows.length === 1 && chunks.length === 1) {
        process.stdout.write(`${label}: ${rows[0][0]} ${rows[0][1].trim()} KiB (gzip ${rows[0][3].trim()} KiB)\n`);
        return;
      }
      const total = chunks.reduce((n, c) => n + Buffer.byteLength(c.code), 0);
      const w = Math.max(...rows.map((r) => r[0].length), 5);
      const lines = [
        `\n${label}: ${chunks.length} chunks, ${(total / 1024).toFixed(1)} KiB of JavaScript in total`,
        `${'entry'.padEnd(w)}   own KiB  loaded KiB    gzip KiB`,
        ...rows.map(([f, own, loaded, gz]) => `${f.padEnd(w)}  ${own}    ${loaded}    ${gz}`),
        '',
      ];
      process.stdout.write(lines.join('\n') + '\n');
    },
  };
}

const nodeLibrary = {
  input: nodeEntries(),
  external: (id) => !id.startsWith('.') && !isAbsolute(id) && !id.startsWith('\0'),
  plugins: [
    cleanNodeOutput(),
    typescript({
      tsconfig: at('tsconfig.json'),
      include: ['src/**/*.ts', 'transports/**/*.ts', 'scripts/sim/**/*.ts', 'boards/espruino/host/**/*.ts'],
      exclude: ['**/*.test.ts'],
      compilerOptions: {
        rootDir: '.',
        outDir: 'dist',
        declaration: true,
        declarationDir: 'dist/types',
        declarationMap: false,
        sourceMap: false,
        noEmit: false,
        noEmitOnError: false,
        incremental: false,
        composite: false,
      },
    }),
    sizeReport('node library'),
  ],
  output: {
    dir: 'dist',
    format: 'es',
    entryFileNames: '[name].js',
    chunkFileNames: 'chunks/[name].js',
    generatedCode: 'es2015',
  },
  onwarn(warning, warn) {
    // Dependency cycles inside the sources are legal ESM; everything else is shown.
    if (warning.code === 'CIRCULAR_DEPENDENCY') return;
    warn(warning);
  },
};

/** A board's own configs, when that board has a rollup.config.mjs. */
async function boardConfigs(board) {
  const file = at(`boards/${board}/rollup.config.mjs`);
  if (!existsSync(file)) return [];
  try {
    const configs = (await import(file)).default;
    // Each board bundle reports its size too.
    return (Array.isArray(configs) ? configs : [configs]).map((c) => ({ ...c, plugins: [...(c.plugins ?? []), sizeReport(`boards/${board}`)] }));
  } catch (e) {
    process.stderr.write(`warning: skipping boards/${board} bundles: its rollup.config.mjs failed to load: ${e?.message ?? e}\n`);
    return [];
  }
}

const nodeOnly = process.env.DIDCOMM_BUILD === 'node';

export default [nodeLibrary, ...(nodeOnly ? [] : [...(await boardConfigs('espruino')), ...(await boardConfigs('raspberry-pi'))])];
