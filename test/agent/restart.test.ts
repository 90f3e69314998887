/**
 * Durability across process death and restarts (DESIGN.md §6 "never lost, across kill -9"):
 * a sensor killed between storing a report and sending it sends it after restart, delivered
 * once; a receiver that restarts still refuses to hand a re-delivered message to the app twice;
 * pairwise sequence numbers are never reused after a restart.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SqliteKvStore } from '../../src/store/kv-sqlite.js';
import { MemoryKvStore } from '../../src/store/kv-memory.js';
import { ManualClock } from '../../src/util/clock.js';
import { MemoryHub } from '../../transports/memory.js';
import { identities, lossy, makeAgent, until } from './helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

function runChild(args: string[]): Promise<{ stdout: string; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/sensor-child.ts', import.meta.url)), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child timed out; stderr: ${stderr}`));
    }, 30_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`child was not killed (stdout ${stdout}, stderr ${stderr})`));
      else resolve({ stdout, signal });
    });
  });
}

describe('agent restarts', () => {
  it('a sensor killed (SIGKILL) between storing a report and sending it sends it after restart, delivered once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'didcomm-agent-'));
    try {
      const [s, c] = identities(2);
      const idsPath = join(dir, 'ids.json');
      writeFileSync(idsPath, JSON.stringify({ sensor: s, collector: c }));
      const dbPath = join(dir, 'sensor.db');
      const { stdout } = await runChild([dbPath, idsPath]);
      const storedId = /^STORED (\S+)$/mu.exec(stdout)?.[1];
      expect(storedId).toBeDefined();
      expect(stdout).not.toContain('SENT');

      // restart: same identity, same database, now with the collector in reach
      const clock = new ManualClock();
      const hub = new MemoryHub({ clock, mtu: 4096 });
      const store = await SqliteKvStore.open(dbPath);
      const known = [s!, c!];
      const sensor = makeAgent({ id: s!, clock, known, store, transport: hub.attach('s'), peers: { [c!.did]: 'c' } });
      const collector = makeAgent({ id: c!, clock, known, transport: hub.attach('c'), peers: { [s!.did]: 's' } });
      const got: Array<{ id: string; seq: unknown }> = [];
      collector.on('telemetry', (e) => got.push(...e.readings.map((r) => ({ id: e.message.id, seq: r.seq }))));
      const delivered: string[] = [];
      sensor.on('delivered', (e) => delivered.push(e.id));
      await collector.start();
      await sensor.start();
      expect(sensor.outbox.pending().map((p) => p.id)).toEqual([storedId]);
      await until(clock, () => delivered.length === 1);
      await clock.advance(120_000);
      expect(got).toEqual([{ id: storedId, seq: 1 }]);
      expect(delivered).toEqual([storedId]);
      expect(await store.count('ob/')).toBe(0);
      await sensor.stop();
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a receiver that restarts does not hand a re-delivered message to the application twice', async () => {
    const clock = new ManualClock();
    const hub = new MemoryHub({ clock, mtu: 4096 });
    const [s, c] = identities(2);
    const known = [s!, c!];
    const collectorStore = new MemoryKvStore();
    const sensorLink = hub.attach('s');
    const sensor = makeAgent({ id: s!, clock, known, transport: sensorLink, peers: { [c!.did]: 'c' } });
    const frames: Uint8Array[] = [];
    hub.on('transmit', (f, from) => from === 's' && frames.push(f));
    let collectorLink = hub.attach('c');
    const firstLink = lossy(collectorLink);
    let collector = makeAgent({ id: c!, clock, known, store: collectorStore, transport: firstLink, peers: { [s!.did]: 's' } });
    const got: unknown[] = [];
    collector.on('telemetry', (e) => got.push(...e.readings));
    await collector.start();
    await sensor.start();
    await sensor.report({ seq: 7, temp: 20 }, { to: c!.did });
    await until(clock, () => sensor.outbox.size === 0);
    expect(got).toHaveLength(1);
    // a second report whose ack is lost: the receiver restarts before the sender retries
    firstLink.dropNext = 1;
    await sensor.report({ seq: 8, temp: 21 }, { to: c!.did });
    await until(clock, () => got.length === 2);
    expect(sensor.outbox.size).toBe(1);
    // the receiver restarts (same store); the very same frame arrives again, and a retry too
    await collector.stop();
    await collectorLink.close();
    collectorLink = hub.attach('c');
    collector = makeAgent({ id: c!, clock, known, store: collectorStore, transport: collectorLink, peers: { [s!.did]: 's' } });
    const again: unknown[] = [];
    collector.on('telemetry', (e) => again.push(...e.readings));
    const problems: string[] = [];
    collector.on('problem', (p) => problems.push(p.code));
    await collector.start();
    await until(clock, () => sensor.outbox.size === 0); // the retry is answered with an ack
    const evil = hub.attach('evil');
    await evil.send(frames[0]!, 'c'); // and the first frame replayed is refused
    await clock.advance(10_000);
    expect(again).toEqual([]);
    expect(got).toHaveLength(2);
    expect(problems).toEqual(['e.p.msg.replay']);
    const st = collector.stats() as { inbound: { replays: number; duplicates: number } };
    expect(st.inbound).toMatchObject({ replays: 1, duplicates: 1 });
  });
});
