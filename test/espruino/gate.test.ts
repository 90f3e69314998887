/**
 * The Espruino CI gate (scripts/espruino-gate.mjs) on the real bundles — syntax and built-ins
 * Espruino lacks, use before definition, size budget, bleed of envelope / asymmetric code — and
 * on deliberately bad code, which it must reject. Also checks that the board lists agree
 * (boards.json for the build, boards.ts compiled into the bundles, src/provision for configs).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BOARDS } from '../../boards/espruino/boards.js';
import { ESPRUINO_BOARDS } from '../../src/provision/espruino.js';
import { ManualClock } from '../../src/util/clock.js';
import { BOARD_NAMES, bundleCode, ensureEspruinoBuilt } from './build.js';
import { boot, config } from './fixtures.js';

interface Problem {
  rule: string;
  message: string;
}
interface Row {
  board: string;
  bytes: number;
  gzip: number;
  budget: number;
  jsVarsEstimate: number;
  problems: Problem[];
}
interface Gate {
  checkEspruinoSource(code: string, name?: string): Problem[];
  checkBundles(dir: string, boards?: Record<string, { maxBundleBytes: number; jsVars: number }>): Row[];
  bleedMarkers(code: string): string[];
  formatRows(rows: Row[]): string;
  loadBoardInfo(): Record<string, { maxBundleBytes: number; jsVars: number; transports: string[]; hasAes: boolean }>;
}

const ROOT = resolve(import.meta.dirname, '../..');
const GATE_PATH = join(ROOT, 'scripts/espruino-gate.mjs');
let gate: Gate;
let dir: string;

beforeAll(async () => {
  dir = await ensureEspruinoBuilt();
  gate = (await import(GATE_PATH as string)) as Gate;
});

describe('espruino gate', () => {
  it('passes every board bundle: syntax, built-ins, hoisting, budget, no bleed (sizes printed)', () => {
    const rows = gate.checkBundles(dir);
    console.log(`\n${gate.formatRows(rows)}`);
    expect(rows.map((r) => r.board)).toEqual(BOARD_NAMES);
    for (const r of rows) {
      expect(r.problems, r.board).toEqual([]);
      expect(r.bytes).toBeLessThanOrEqual(r.budget);
    }
    expect(rows.find((r) => r.board === 'puck-js')!.bytes).toBeLessThanOrEqual(20 * 1024);
  });

  it.each([
    ['const {a} = b;', 'syntax'],
    ['var [x, y] = z;', 'syntax'],
    ['async function f() {}', 'syntax'],
    ['function* g() { yield 1; }', 'syntax'],
    ['var m = new Map();', 'global'],
    ['var s = new Set([1]);', 'global'],
    ['var n = 1n;', 'syntax'],
    ['var b = BigInt(1);', 'global'],
    ['var e = new TextEncoder();', 'global'],
    ['var a = Array.from(x);', 'builtin'],
    ['var t = Math.trunc(1.5);', 'builtin'],
    ['var o = a?.b;', 'syntax'],
    ['var p = 2 ** 8;', 'syntax'],
    ['x ??= 1;', 'syntax'],
    ['f(...args);', 'syntax'],
    ['function f(a = 1) {}', 'syntax'],
    ['loop: for (;;) break loop;', 'syntax'],
    ['var o = { a };', 'syntax'],
    ['var o = { m() {} };', 'syntax'],
    ['class A { #p = 1; }', 'syntax'],
    ['var r = tag`x`;', 'syntax'],
    ['import("x");', 'syntax'],
    ['export default 1;', 'syntax'],
    ['start(); function start() {}', 'hoisting'],
    ['var api = { run: run }; function run() {}', 'hoisting'],
    ['function a() { return b(); } a(); function b() {}', 'hoisting'],
  ])('rejects %s', (code, rule) => {
    const problems = gate.checkEspruinoSource(code);
    expect(problems.map((p) => p.rule)).toContain(rule);
  });

  it.each([
    'function f() { return 1; } f();',
    'function a() { return b(); } function b() { return 1; } a();',
    'var f = function () { return later(); }; function later() {} f();',
    'function shadow(Map) { return new Map(); }',
    'class C { constructor() { this.x = 1; } m() { return () => this.x; } }',
    'var s = `t${1}`; var o = { "a": 1, b: 2 }; var q = a ?? b;',
  ])('accepts %s', (code) => {
    expect(gate.checkEspruinoSource(code)).toEqual([]);
  });

  it('fails a bundle over its budget and one with envelope or asymmetric code in it', () => {
    const rows = gate.checkBundles(dir, { 'puck-js': { maxBundleBytes: 1000, jsVars: 2630 } });
    expect(rows[0]!.problems.map((p) => p.rule)).toEqual(['size']);
    const leaked = `${bundleCode(dir, 'pico')}\nvar alg="ECDH-ES+A256KW",k=BigInt(1);`;
    expect(gate.bleedMarkers(leaked)).toEqual(expect.arrayContaining(['ecdh', 'bigint']));
    expect(gate.bleedMarkers(bundleCode(dir, 'pico'))).toEqual([]);
  });

  it('CLI: exit 0 on the built bundles, 1 when a bundle is bad', () => {
    const ok = spawnSync(process.execPath, [GATE_PATH, '--dir', dir], { encoding: 'utf8' });
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/puck-js\s+\d+\s+\d+\s+20480/);
    const bad = mkdtempSync(join(tmpdir(), 'espruino-gate-'));
    for (const b of BOARD_NAMES) copyFileSync(join(dir, `${b}.js`), join(bad, `${b}.js`));
    writeFileSync(join(bad, 'pico.js'), `${readFileSync(join(bad, 'pico.js'), 'utf8')}\nvar m=new Map();`);
    const fail = spawnSync(process.execPath, [GATE_PATH, '--dir', bad], { encoding: 'utf8' });
    expect(fail.status).toBe(1);
    expect(fail.stdout).toMatch(/\[global\] pico\.js:\d+:\d+ uses Map/);
  });

  it('the board lists agree: boards.json, boards.ts, the entries, and src/provision', () => {
    const info = gate.loadBoardInfo();
    expect(Object.keys(info)).toEqual(BOARDS.map((b) => b.name));
    expect(Object.keys(ESPRUINO_BOARDS).sort()).toEqual(Object.keys(info).sort());
    for (const [name, b] of Object.entries(info)) {
      expect([...ESPRUINO_BOARDS[name]!].sort(), name).toEqual([...b.transports].sort());
      expect(existsSync(join(ROOT, `boards/espruino/src/entries/${name}.ts`))).toBe(true);
      const code = bundleCode(dir, name);
      // A bundle carries the pure-JS AES exactly when the firmware has none.
      const noAes = (): unknown => boot(dir, name, config({ kind: 'lora-rylr', address: 2, gateway: 1 }), { clock: new ManualClock(), aes: false, capture: true });
      if (b.hasAes) expect(noAes, name).toThrow(/no AES/);
      else expect(noAes, name).not.toThrow();
      expect(code.includes('6e400003'), name).toBe(b.transports.includes('ble-nus'));
      expect(code.includes('AT+SEND='), name).toBe(b.transports.includes('lora-rylr'));
    }
  });
});
