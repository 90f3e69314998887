/**
 * README.md is tested like code: the CLI tour runs as written (bash, `npx didcomm-iot` pointing at
 * the built binary) and prints what the text says; every `didcomm-iot <command> --flag` anywhere in
 * a shell block is a registered command with that flag in its `--help`; every `npm run X` / `npm
 * start` / `npm test` is a package script; every TypeScript example type-checks against the
 * published subpaths. The long-running commands (mediator, sim) run in test/mediator/cli.test.ts
 * and test/sim/field.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, ROOT } from '../build/ensure-dist.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const BIN = join(ROOT, 'bin', 'didcomm-iot.js');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

function blocks(lang: string): string[] {
  const out: string[] = [];
  const re = new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'gu');
  for (let m = re.exec(README); m; m = re.exec(README)) out.push(m[1]!);
  return out;
}

let tmp: string;
beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'didcomm-readme-'));
}, 300_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// These tests run child processes synchronously (bash, the CLI, tsc): each test's timeout is larger
// than its spawns' own, so a loaded machine makes them slow, not failed.
describe('README.md', () => {
  it('the CLI tour runs as written: 0600 secrets, a compact frame ten times smaller than the JWE, both unpacked', () => {
    const tour = README.split('<!-- readme:cli-tour -->')[1]!.match(/```sh\n([\s\S]*?)```/u)![1]!;
    const dir = join(tmp, 'tour');
    mkdirSync(dir);
    const shim = `set -euo pipefail\nnpx() { if [ "$1" = didcomm-iot ]; then shift; "${process.execPath}" "${BIN}" "$@"; else command npx "$@"; fi; }\n`;
    const r = spawnSync('bash', ['-c', shim + tour], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const sizes = r.stdout.split('\n').filter((l) => /^\s*\d+\s*$/u.test(l)).map(Number);
    expect(sizes).toHaveLength(2);
    const [compact, json] = sizes as [number, number];
    expect(README).toContain(`The same message is ${compact} bytes compact against ${json.toLocaleString('en-US')} as a JSON JWE`);
    expect(compact * 10).toBeLessThan(json);
    expect(r.stdout).toContain('"format": "compact"');
    expect(r.stdout).toContain('"format":"json"');
    expect(r.stdout).toContain('"temp": 21.5');
    expect(spawnSync('stat', ['-c', '%a', join(dir, 'alice.json')], { encoding: 'utf8' }).stdout.trim()).toBe('600');
  }, 90_000);

  it('every didcomm-iot command and flag in a shell block exists, and every npm script it names', () => {
    const lines = blocks('sh').flatMap((b) => b.split('\n'));
    const uses = lines.flatMap((l) => [...l.matchAll(/didcomm-iot ([a-z]+)((?: +(?:--[a-z-]+|[^\s#|>;)]+))*)/gu)]).map((m) => ({ command: m[1]!, flags: [...m[2]!.matchAll(/--[a-z-]+/gu)].map((f) => f[0]) }));
    expect(new Set(uses.map((u) => u.command))).toEqual(new Set(['did', 'pack', 'unpack', 'mediator', 'ping', 'pickup', 'provision']));
    const help = new Map<string, string>();
    for (const u of uses) {
      if (!help.has(u.command)) {
        const r = spawnSync(process.execPath, [BIN, u.command, '--help'], { encoding: 'utf8', timeout: 30_000 });
        expect(r.status, `${u.command} --help`).toBe(0);
        help.set(u.command, r.stdout);
      }
      for (const f of u.flags) expect(help.get(u.command), `didcomm-iot ${u.command} ${f}`).toContain(f);
    }
    const scripts = [...README.matchAll(/npm (?:run ([a-z:-]+)|(start|test))\b/gu)].map((m) => m[1] ?? m[2]!);
    expect(scripts).toEqual(expect.arrayContaining(['start', 'test', 'bench', 'fuzz', 'build', 'typecheck']));
    for (const s of scripts) expect(pkg.scripts[s], `npm script ${s}`).toBeDefined();
  }, 120_000);

  it('every TypeScript example type-checks against the published subpaths', () => {
    const examples = blocks('ts');
    expect(examples.length).toBeGreaterThanOrEqual(3);
    const consumer = join(tmp, 'consumer');
    mkdirSync(join(consumer, 'node_modules', '@types'), { recursive: true });
    symlinkSync(ROOT, join(consumer, 'node_modules', 'didcomm-iot'), 'dir');
    for (const dep of ['serialport', '@serialport']) symlinkSync(join(ROOT, 'node_modules', dep), join(consumer, 'node_modules', dep), 'dir');
    const files = examples.map((code, i) => {
      writeFileSync(join(consumer, `example${i}.ts`), `${code}\nexport {};\n`);
      return `example${i}.ts`;
    });
    writeFileSync(join(consumer, 'package.json'), '{"type":"module"}');
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] }, files }),
    );
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', consumer], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 150_000);
});
