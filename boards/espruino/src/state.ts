/**
 * Persistent state in Espruino Storage (one small JSON file, `didcomm.st` by default), written
 * synchronously before the value it protects is used, so a reboot never reuses a nonce or
 * accepts an old frame (RFC 8613 Appendix B.1.1, as src/envelope/compact/pairwise-sessions.ts):
 *   s: { context: reserved-up-to }   sender sequence numbers, reserved in blocks
 *   r: { context: [top, lo, hi] }    receive replay windows, written on every accepted frame
 *   i: reserved-up-to                the message-id counter, reserved in blocks
 *   x: [[request key, result id, result body hex]...]  the last executed commands
 * A reboot skips the unused rest of a reserved block: that costs numbers, never safety.
 */
import { fail } from './bytes.js';
import type { Window } from './pairwise.js';

export interface Store {
  readJSON(name: string, noExceptions?: boolean): unknown;
  writeJSON(name: string, data: unknown): boolean;
}

/** [request key, result id, result body hex]: key = context index ":" hex of the id's CBOR. */
export type Executed = [string, number, string];

interface Saved {
  s: Record<string, number>;
  r: Record<string, Window>;
  i: number;
  x: Executed[];
}

export class State {
  _store: Store;
  _file: string;
  _block: number;
  _max: number;
  _saved: Saved;
  /** Next unused value per counter ("i" = message ids); starts at the persisted reservation. */
  _next: Record<string, number> = {};

  constructor(store: Store, file: string, block: number, maxExecuted: number) {
    this._store = store;
    this._file = file;
    this._block = block;
    this._max = maxExecuted;
    const raw = store.readJSON(file, true) as Saved | undefined;
    const ok = raw && typeof raw === 'object' && typeof raw.i === 'number' && raw.s && raw.r && Array.isArray(raw.x);
    this._saved = ok ? (raw as Saved) : { s: {}, r: {}, i: 0, x: [] };
    for (const k in this._saved.s) this._next[k] = this._saved.s[k];
    this._next[''] = this._saved.i;
  }

  _persist(): void {
    if (!this._store.writeJSON(this._file, this._saved)) fail('storage');
  }

  /** The next value of a counter, reserved (persisted) before it is returned. */
  _take(key: string): number {
    const v = this._next[key] || 0;
    const reserved = key ? this._saved.s[key] || 0 : this._saved.i;
    if (v >= reserved) {
      if (key) this._saved.s[key] = v + this._block;
      else this._saved.i = v + this._block;
      this._persist();
    }
    this._next[key] = v + 1;
    return v;
  }

  /** The next sender sequence number of a context. */
  nextSeq(ctx: string): number {
    return this._take(ctx);
  }

  /** The next 32-bit message-id counter value. */
  nextMessageId(): number {
    return this._take('') % 4294967296;
  }

  /** The replay window of a context (persist it with commit() after accepting a frame). */
  window(ctx: string): Window {
    return this._saved.r[ctx] || (this._saved.r[ctx] = [-1, 0, 0]);
  }

  commit(): void {
    this._persist();
  }

  findExecuted(key: string): Executed | null {
    const x = this._saved.x;
    for (let j = 0; j < x.length; j++) if (x[j][0] === key) return x[j];
    return null;
  }

  addExecuted(e: Executed): void {
    const x = this._saved.x;
    x.push(e);
    while (x.length > this._max) x.shift();
    this._persist();
  }
}
