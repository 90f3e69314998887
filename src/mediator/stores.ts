/**
 * Opening the mediator's stores from one URL (src/store/open.ts): mailboxes and mediation state on
 * the chosen backend — `sqlite:PATH` (embedded default, in the data dir), `postgres://…` or
 * `redis://…` (shared by several mediator processes), `memory:` (tests) — plus a KvStore for the
 * pairwise contexts' replay windows and sequence reservations. The KvStore is embedded (SQLite in
 * the data dir, one per instance; memory without a data dir): pairwise devices are served by the
 * instance that holds their radio link (docs/mediator.md §Scale-out).
 */
import { join } from 'node:path';
import { openKvStore, openStores, type OpenStoresOptions } from '../store/open.js';
import type { KvStore } from '../store/kv.js';
import type { MediatorStores } from './types.js';

export interface OpenMediatorStoresOptions extends OpenStoresOptions {
  /** Directory for embedded files (the pairwise state database). */
  dataDir?: string;
  /** Distinguishes the pairwise state file of several instances sharing a data dir. */
  instance?: string;
}

export async function openMediatorStores(url: string, o: OpenMediatorStoresOptions = {}): Promise<MediatorStores> {
  const stores = await openStores(url, o);
  let kv: KvStore;
  try {
    if (stores.backend === 'memory' || o.dataDir === undefined) kv = await openKvStore('memory:');
    else kv = await openKvStore(`sqlite:${join(o.dataDir, `pairwise${o.instance ? `-${o.instance}` : ''}.db`)}`);
  } catch (e) {
    await stores.close();
    throw e;
  }
  return {
    mailbox: stores.mailbox,
    mediation: stores.mediation,
    kv,
    close: async () => {
      await Promise.all([stores.close(), kv.close()]);
    },
  };
}
