/**
 * The Node build (rollup.config.mjs) and the package surface: every `exports` target exists with
 * its types, `npx didcomm-iot --version` works from the project root, the bin launcher explains a
 * missing build, the root entry loads no Node-only package (checked with a module-resolution hook
 * in a child process, with a positive control), and a TypeScript consumer type-checks against the
 * published subpaths with real (not `any`) types.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ensureBuilt, ROOT } from './ensure-dist.js';

const execFileAsync = promisify(execFile);

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  exports: Record<string, string | { types: string; default: string }>;
  types: string;
};
const FORBIDDEN = ['serialport', '@serialport/', 'mqtt', 'ws', 'better-sqlite3', 'pg', 'ioredis', '@stoprocent/noble', 'aedes', 'johnny-five'];
const isForbidden = (spec: string) => FORBIDDEN.some((f) => (f.endsWith('/') ? spec.startsWith(f) : spec === f || spec.startsWith(`${f}/`)));

let tmp: string;
beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'didcomm-build-'));
}, 300_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Subpaths the wildcard export covers: every transports/<name>/index.ts. */
const transportNames = readdirSync(join(ROOT, 'transports'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(ROOT, 'transports', d.name, 'index.ts')))
  .map((d) => d.name);

function exportTargets(): Array<[string, { types: string; default: string }]> {
  const out: Array<[string, { types: string; default: string }]> = [];
  for (const [key, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue;
    if (key.includes('*')) for (const n of transportNames) out.push([key.replace('*', n), { types: target.types.replace('*', n), default: target.default.replace('*', n) }]);
    else out.push([key, target]);
  }
  return out;
}

describe('package surface', () => {
  it('every export (wildcards expanded) points at built JavaScript and declarations', () => {
    const targets = exportTargets();
    expect(targets.map(([k]) => k)).toEqual(expect.arrayContaining(['.', './envelope', './did', './crypto/noble', './crypto/node', './cbor', './agent', './mediator', './store', './cli', './transports/memory', ...transportNames.map((n) => `./transports/${n}`)]));
    for (const [key, t] of targets) {
      expect(existsSync(join(ROOT, t.default)), `${key} → ${t.default}`).toBe(true);
      expect(existsSync(join(ROOT, t.types)), `${key} → ${t.types}`).toBe(true);
    }
    expect(existsSync(join(ROOT, pkg.types))).toBe(true);
    expect(pkg.bin['didcomm-iot']).toBe('bin/didcomm-iot.js');
  });

  // npx reads the whole node_modules tree when its hidden lockfile is older than node_modules (the
  // test run's own caches touch it): ~1 s alone, tens of seconds with the rest of the suite running
  // beside it. Asynchronous, so a slow npx cannot block the worker, and with room for that.
  it('npx didcomm-iot --version works from the project root', async () => {
    const { stdout } = await execFileAsync('npx', ['didcomm-iot', '--version'], { cwd: ROOT, encoding: 'utf8', timeout: 100_000, env: { ...process.env, npm_config_update_notifier: 'false' } });
    expect(stdout).toBe(`${pkg.version}\n`);
  }, 120_000);

  it('the launcher explains a missing build', () => {
    const fake = join(tmp, 'pkg');
    mkdirSync(join(fake, 'bin'), { recursive: true });
    cpSync(join(ROOT, 'bin', 'didcomm-iot.js'), join(fake, 'bin', 'didcomm-iot.js'));
    const r = spawnSync(process.execPath, [join(fake, 'bin', 'didcomm-iot.js'), '--version'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: ERR_[A-Z_]+: .*npm run build.*\n$/u);
  });

  it('every subpath imports by package name at run time', () => {
    const script = exportTargets()
      .map(([key]) => `m = await import(${JSON.stringify(key === '.' ? 'didcomm-iot' : `didcomm-iot/${key.slice(2)}`)}); if (Object.keys(m).length === 0) throw new Error('empty ${key}');`)
      .join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `let m;\n${script}\nprocess.stdout.write('ok')`], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ok');
  });
});

describe('the root entry stays free of Node-only packages', () => {
  /** Imports `entry` in a child process whose resolve hook logs every bare specifier resolved. */
  function resolvedSpecifiers(entry: string): string[] {
    const log = join(tmp, `resolved-${Math.random().toString(36).slice(2)}.log`);
    const hooks = join(tmp, 'hooks.mjs');
    writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  if (!specifier.startsWith('.') && !specifier.startsWith('/') && !specifier.startsWith('file:') && !specifier.startsWith('node:')) appendFileSync(process.env.RESOLVE_LOG, specifier + '\\n');
  return next(specifier, context);
}\n`,
    );
    const register = join(tmp, 'register.mjs');
    writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${hooks}`)});\n`);
    writeFileSync(log, '');
    const r = spawnSync(process.execPath, ['--import', register, '--input-type=module', '-e', `await import(${JSON.stringify(`file://${join(ROOT, entry)}`)});`], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, RESOLVE_LOG: log },
    });
    expect(r.status, r.stderr).toBe(0);
    return readFileSync(log, 'utf8').split('\n').filter(Boolean);
  }

  it('import of dist/index.js resolves no Node-only package', () => {
    const specs = resolvedSpecifiers('dist/index.js');
    expect(specs.some((s) => s.startsWith('@noble/'))).toBe(true);
    expect(specs.filter(isForbidden)).toEqual([]);
  });

  it('positive control: the MQTT and WebSocket transports do resolve mqtt and ws', () => {
    expect(resolvedSpecifiers('dist/transports/mqtt.js')).toContain('mqtt');
    expect(resolvedSpecifiers('dist/transports/ws.js')).toContain('ws');
  });

  it('no chunk statically reachable from dist/index.js imports a Node-only package', () => {
    const seen = new Set<string>();
    const bare: string[] = [];
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const code = readFileSync(file, 'utf8');
      for (const m of code.matchAll(/(?:^|[;\s])(?:import|export)\s*(?:[^'";]*?from\s*)?['"]([^'"]+)['"]/gmu)) {
        const spec = m[1]!;
        if (spec.startsWith('.')) visit(join(dirname(file), spec));
        else bare.push(spec);
      }
    };
    visit(join(ROOT, 'dist/index.js'));
    expect(seen.size).toBeGreaterThan(1);
    expect(bare.filter(isForbidden)).toEqual([]);
  });
});

describe('declarations', () => {
  // tsc runs asynchronously (a type-check takes several seconds, more with the suite beside it)
  it('a TypeScript consumer type-checks against the subpaths, with real types', async () => {
    const consumer = join(tmp, 'consumer');
    mkdirSync(join(consumer, 'node_modules'), { recursive: true });
    symlinkSync(ROOT, join(consumer, 'node_modules', 'didcomm-iot'), 'dir');
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] },
        files: ['main.ts'],
      }),
    );
    writeFileSync(join(consumer, 'package.json'), '{"type":"module"}');
    writeFileSync(
      join(consumer, 'main.ts'),
      `import { pack, unpack, createDid, OfflineResolver, SecretsStore, defaultCrypto, DidcommError, type EnvelopeContext, type UnpackResult } from 'didcomm-iot';
import { PairwiseSessions, sniffFormat } from 'didcomm-iot/envelope';
import { resolveDidKey } from 'didcomm-iot/did';
import { nobleBackend } from 'didcomm-iot/crypto/noble';
import { nodeBackend } from 'didcomm-iot/crypto/node';
import { encodeCbor, decodeCbor } from 'didcomm-iot/cbor';
import { runCli, registerCommand } from 'didcomm-iot/cli';
import { createMemoryPair } from 'didcomm-iot/transports/memory';
import { openKvStore, type KvStore } from 'didcomm-iot/store';
import { Agent } from 'didcomm-iot/agent';
import { Mediator, openMediatorStores } from 'didcomm-iot/mediator';
const kv: KvStore = await openKvStore('memory:');
const agentCtor: typeof Agent = Agent;
void [kv, agentCtor, Mediator.create, openMediatorStores];
${transportNames.map((n, i) => `import * as t${i} from 'didcomm-iot/transports/${n}';\nvoid t${i};`).join('\n')}
const alice = createDid();
const ctx: EnvelopeContext = { crypto: defaultCrypto, resolver: new OfflineResolver(), secrets: new SecretsStore() };
const packed = await pack(ctx, { id: '1', type: 't' }, { mode: 'plain', format: 'compact' });
const bytes: Uint8Array = packed.bytes;
const opened: UnpackResult = await unpack(ctx, bytes, { pairwise: new PairwiseSessions(ctx) });
const code: number = await runCli(['--version']);
const doc = resolveDidKey(alice.did, nobleBackend ?? nodeBackend);
decodeCbor(encodeCbor(1));
void [opened, code, doc, sniffFormat, registerCommand, createMemoryPair, DidcommError];
// @ts-expect-error the mode is a closed union
await pack(ctx, { id: '1', type: 't' }, { mode: 'telepathy' });
// @ts-expect-error runCli resolves to a number
const wrong: string = await runCli([]);
void wrong;
`,
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await execFileAsync(process.execPath, [tsc, '-p', consumer], { encoding: 'utf8', timeout: 100_000 }).then(
      (x) => ({ status: 0, out: x.stdout + x.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ status: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
    );
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  }, 120_000);
});
