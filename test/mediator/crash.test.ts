/**
 * "A message accepted is never lost, across kill -9" (DESIGN §6): a mediator child process takes a
 * load of 10,000 compact forwards over HTTP and is SIGKILLed in the middle. After a restart on the
 * same store, the sender re-sends what was not acknowledged; then every forward that got a 202 is in
 * the recipient's mailbox exactly once (unacknowledged ones at least once: the receiver dedupes by
 * id), and everything is delivered through pickup. Embedded SQLite store always; PostgreSQL when
 * DATABASE_URL is set.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { fromUtf8, utf8 } from '../../src/util/bytes.js';
import { wrapInForwards } from '../../src/routing/forward.js';
import { OfflineResolver } from '../../src/did/resolver.js';
import * as C from '../../src/protocols/coordinate-mediation.js';
import { makeParty } from './helpers.js';
import { closeAgent, httpRequest, pickupAll, postAll, startChild, type MediatorChild } from './child.js';

const DATABASE_URL = process.env.DATABASE_URL;
const TOTAL = 10_000;
const KILL_AFTER = 4000;

afterAll(() => closeAgent());

function innerFrame(i: number): Uint8Array {
  const b = new Uint8Array(24);
  b[0] = 0xe6; // a compact authcrypt frame marker: the mediator only forwards, never opens it
  b.set(utf8(`fwd-${String(i).padStart(8, '0')}`), 4);
  return b;
}

function indexOf(inner: Uint8Array): number {
  return Number(fromUtf8(inner.subarray(8, 16)));
}

async function crashRun(store: string, dataDir: string): Promise<void> {
  let child: MediatorChild = await startChild([dataDir, store]);
  try {
    const did = child.did;
    const device = makeParty();
    const grant = await httpRequest(child.url, device, did, C.mediateRequest(device.id(), device.did, did));
    expect(grant.type).toBe(C.MEDIATE_GRANT_TYPE);
    await httpRequest(child.url, device, did, C.keylistUpdate(device.id(), device.did, did, [{ recipientDid: device.did, action: 'add' }]));

    const sender = makeParty();
    const medKid = new OfflineResolver().keyAgreementKeys(did)[0]!.kid;
    const frames: Uint8Array[] = [];
    for (let i = 0; i < TOTAL; i++) frames.push(await wrapInForwards(sender.ctx, innerFrame(i), { recipient: device.did, routingKeys: [medKid], format: 'compact' }));

    const acked = new Set<number>();
    let killing: Promise<void> | undefined;
    const first = postAll(() => child.url, frames, 48, (i) => {
      acked.add(i);
      if (acked.size === KILL_AFTER) killing = child.kill();
    });
    const unacked = await first;
    await killing;
    expect(acked.size).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(acked.size).toBeLessThan(TOTAL);

    child = await startChild([dataDir, store]);
    expect(child.did).toBe(did);
    const failedAgain = await postAll(() => child.url, unacked.map((i) => frames[i]!), 48, () => undefined);
    expect(failedAgain).toEqual([]);

    const delivered = await pickupAll(child.url, device, did);
    const count = new Map<number, number>();
    for (const inner of delivered) count.set(indexOf(inner), (count.get(indexOf(inner)) ?? 0) + 1);
    for (const i of acked) expect(count.get(i), `acknowledged forward ${i}`).toBe(1);
    for (let i = 0; i < TOTAL; i++) expect(count.get(i) ?? 0, `forward ${i}`).toBeGreaterThanOrEqual(1);
    expect(delivered.length - TOTAL).toBeLessThanOrEqual(60); // only in-flight ones at the kill can repeat
  } finally {
    await child.stop().catch(() => undefined);
  }
}

describe('mediator survives kill -9 under load', () => {
  it('embedded SQLite store: every acknowledged forward is delivered exactly once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mediator-crash-'));
    try {
      await crashRun(`sqlite:${join(dir, 'mailbox.db')}`, dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it.skipIf(!DATABASE_URL)('PostgreSQL store (DATABASE_URL): every acknowledged forward is delivered exactly once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mediator-crash-pg-'));
    const schema = `med_crash_${process.pid}_${Date.now().toString(36)}`;
    try {
      const url = new URL(DATABASE_URL!);
      url.searchParams.set('schema', schema);
      await crashRun(url.toString(), dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      const c = new pg.Client({ connectionString: DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    }
  }, 60_000);
});
