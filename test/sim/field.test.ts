/**
 * The main job (`npm start` = `didcomm-iot sim`), run as a user runs it: the built CLI with
 * `--json`, on embedded defaults (SQLite in a temp dir, embedded MQTT broker, simulated LoRa with
 * RYLR emulators, the real Puck.js bundle under the host shims). Short runs at 10 % and 30 % frame
 * loss must deliver every reading exactly once without breaking the duty cycle, execute the
 * controller's commands and bring the offline field device back in sync. Also: the live view.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from '../build/ensure-dist.js';
import { ensureEspruinoBuilt } from '../espruino/build.js';
import { LiveView, renderView, type ViewFrame } from '../../scripts/sim/view.js';
import type { SimSummary } from '../../scripts/sim/metrics.js';

let bundles: string;
beforeAll(async () => {
  await ensureBuilt();
  bundles = await ensureEspruinoBuilt();
}, 300_000);

function sim(args: string[]): Promise<{ code: number; summary: SimSummary; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(ROOT, 'bin/didcomm-iot.js'), 'sim', '--json', '--bundles', bundles, ...args], { timeout: 240_000, maxBuffer: 1 << 22 }, (e, stdout, stderr) => {
      const code = e ? (typeof e.code === 'number' ? e.code : -1) : 0;
      try {
        resolve({ code, summary: JSON.parse(stdout.trim().split('\n').pop()!) as SimSummary, stderr });
      } catch {
        reject(new Error(`sim printed no summary (exit ${code}): ${stderr.slice(0, 2000)}`));
      }
    });
  });
}

function expectExactlyOnce(s: SimSummary): void {
  for (const k of ['sent', 'delivered', 'duplicates', 'lost', 'commandsExecuted', 'commandsRefused', 'bytesOnAir', 'airtimeMs', 'jsonBytesEquivalent'] as const) expect(typeof s[k]).toBe('number');
  expect(s.sent).toBeGreaterThan(5);
  expect(s.delivered).toBe(s.sent);
  expect(s.lost).toBe(0);
  expect(s.duplicates).toBe(0);
  expect(s.dutyCycleViolations).toBe(0);
  expect(s.enrolmentFailures).toEqual([]);
  expect(s.perDevice.filter((d) => d.kind === 'espruino').every((d) => d.sent > 0 && d.delivered === d.sent)).toBe(true);
  expect(s.bytesPerReading.compact * 5).toBeLessThan(s.bytesPerReading.json);
}

describe('didcomm-iot sim (npm start)', () => {
  it('delivers every reading exactly once at 10 % and at 30 % loss, runs the commands, syncs the field device', { timeout: 300_000 }, async () => {
    const [a, b] = await Promise.all([sim(['--duration', '10']), sim(['--duration', '15', '--loss', '0.3', '--seed', '7'])]);
    expect(a.code).toBe(0);
    expectExactlyOnce(a.summary);
    expect(a.summary.commandsSent).toBeGreaterThan(0);
    expect(a.summary.commandsExecuted).toBe(a.summary.commandsSent);
    expect(a.summary.fieldDevice).toMatchObject({ synced: true });
    expect(a.summary.fieldDevice.offlineSeconds).toBeGreaterThan(0);
    expect(b.code).toBe(0);
    expectExactlyOnce(b.summary);
    expect(b.summary.options).toMatchObject({ loss: 0.3, seed: 7 });
  });

  it('rejects bad options with a usage error', async () => {
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [join(ROOT, 'bin/didcomm-iot.js'), 'sim', '--loss', '2'], (e, _o, stderr) => resolve({ code: e ? Number(e.code) : 0, stderr }));
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--loss must be in 0\.\.0\.6/u);
  });

  it('the live view shows each device, the progress and the totals; off a terminal it prints a snapshot at most every 5 s', () => {
    const frame: ViewFrame = {
      phase: 'running',
      progress: 0.5,
      simulatedSeconds: 3725,
      devices: [
        { name: 'sensor-1', kind: 'node', did: 'did:key:z6Mk1', sent: 4, delivered: 3, duplicates: 0, txFrames: 9, bytesOnAir: 2100, airtimeMs: 3500, budgetLeftMs: 18_000, commandsExecuted: 0, problemsRefused: 0, online: true },
        { name: 'field-1', kind: 'field', did: 'did:key:z6Mk2', sent: 2, delivered: 2, duplicates: 0, txFrames: 4, bytesOnAir: 900, airtimeMs: 1500, budgetLeftMs: 36_000, commandsExecuted: 0, problemsRefused: 0, online: false },
      ],
      totals: { sent: 6, delivered: 5, duplicates: 0, bytesOnAir: 3000, perReading: { compact: 312, json: 3714 }, airtimeMs: 5000, executed: 1, refused: 2 },
    };
    const text = renderView(frame);
    expect(text).toContain('simulated 1h02m05s');
    expect(text).toContain(`[${'█'.repeat(20)}${'░'.repeat(20)}] 50%`);
    expect(text).toMatch(/sensor-1\s+node\s+4\s+3\s+2100\s+3\.5\s+50%/u);
    expect(text).toMatch(/field-1 .* OFFLINE/u);
    expect(text).toContain('readings delivered 5/6');
    expect(text).toContain('one reading 312 B compact vs 3714 B DIDComm JSON (92% fewer)');
    const written: string[] = [];
    const out = { isTTY: false, write: (s: string) => void written.push(s) } as unknown as NodeJS.WriteStream;
    const view = new LiveView(out);
    view.draw(frame);
    view.draw(frame);
    view.draw({ ...frame, phase: 'done' });
    expect(written).toHaveLength(2);
  });
});
