/**
 * A file-backed `PairwiseStateStore` (docs/compact.md §7.4–7.5) for the CLI: pairwise sequence
 * numbers and replay windows survive between invocations, so repeated `didcomm-iot pack --mode
 * pairwise` never reuses a nonce and a replayed frame is refused by a later `unpack`.
 *
 * The state is one small JSON file (mode 0600) next to the secrets file. Every `put` replaces it
 * atomically (temporary file + fsync + rename). While a command uses the state it holds a lock
 * file (`<state>.lock`, created with O_EXCL, holding the pid), so two concurrent invocations never
 * read the same sequence number; a lock left by a dead process is taken over.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { err } from '../errors.js';
import { fromUtf8 } from '../util/bytes.js';
import { fromBase64url, toBase64url } from '../util/base64url.js';
import { isJsonObject, parseJson } from '../util/json.js';
import type { PairwiseStateStore } from '../envelope/compact/pairwise-sessions.js';
import { atomicWriteFile } from './files.js';
import { ioError } from './errors.js';

const STATE_VERSION = 1;
/** A state file holds a few entries per peer; anything this big is not ours. */
const MAX_STATE_BYTES = 1024 * 1024;
const MAX_ENTRIES = 10_000;

export interface FileStateStoreOptions {
  /** How long to wait for another invocation's lock. Default 10 s. */
  lockTimeoutMs?: number;
  /** Poll interval while waiting for the lock. Default 25 ms. */
  lockPollMs?: number;
}

/** The state file that belongs with a secrets file. */
export function stateFileFor(secretsPath: string): string {
  return `${secretsPath}.pairwise-state`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

export class FilePairwiseStateStore implements PairwiseStateStore {
  readonly path: string;
  readonly lockPath: string;
  private readonly lockTimeoutMs: number;
  private readonly lockPollMs: number;
  private entries: Map<string, Uint8Array> | undefined;
  private opening: Promise<void> | undefined;
  private locked = false;
  private writing: Promise<void> = Promise.resolve();

  constructor(path: string, o: FileStateStoreOptions = {}) {
    this.path = path;
    this.lockPath = `${path}.lock`;
    this.lockTimeoutMs = o.lockTimeoutMs ?? 10_000;
    this.lockPollMs = o.lockPollMs ?? 25;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    await this.ready();
    const v = this.entries!.get(key);
    return v === undefined ? undefined : v.slice();
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    await this.ready();
    // Writes are serialized, so two puts never each write a file missing the other's entry.
    const write = this.writing.then(() => this.write(key, value.slice()));
    this.writing = write.catch(() => undefined);
    return write;
  }

  private async write(key: string, value: Uint8Array): Promise<void> {
    if (!this.entries!.has(key) && this.entries!.size >= MAX_ENTRIES) throw err('ERR_STORE_FULL', `pairwise state file ${this.path} holds ${MAX_ENTRIES} entries`);
    const next = new Map(this.entries!);
    next.set(key, value);
    const doc = { version: STATE_VERSION, entries: Object.fromEntries([...next].map(([k, v]) => [k, toBase64url(v)])) };
    try {
      await atomicWriteFile(this.path, JSON.stringify(doc) + '\n', 0o600);
    } catch (e) {
      throw ioError(e, `cannot write pairwise state file ${this.path}`);
    }
    this.entries = next;
  }

  /** Releases the lock. Safe to call more than once, and when the state was never used. */
  async close(): Promise<void> {
    if (this.opening) await this.opening.catch(() => undefined);
    await this.writing;
    if (!this.locked) return;
    this.locked = false;
    await unlink(this.lockPath).catch(() => undefined);
  }

  private ready(): Promise<void> {
    this.opening ??= this.load();
    return this.opening;
  }

  private async load(): Promise<void> {
    await this.lock();
    let text: string;
    try {
      const buf = await readFile(this.path);
      if (buf.length > MAX_STATE_BYTES) throw err('ERR_STORE', `pairwise state file ${this.path} is larger than ${MAX_STATE_BYTES} bytes`);
      text = fromUtf8(new Uint8Array(buf.buffer, buf.byteOffset, buf.length));
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') {
        this.entries = new Map();
        return;
      }
      throw ioError(e, `cannot read pairwise state file ${this.path}`);
    }
    this.entries = parseState(text, this.path);
  }

  private async lock(): Promise<void> {
    const deadline = Date.now() + this.lockTimeoutMs;
    for (;;) {
      try {
        const h = await open(this.lockPath, 'wx', 0o600);
        try {
          await h.writeFile(String(process.pid));
        } finally {
          await h.close();
        }
        this.locked = true;
        return;
      } catch (e) {
        if ((e as { code?: string }).code !== 'EEXIST') throw ioError(e, `cannot lock pairwise state file ${this.path}`);
      }
      const holder = Number((await readFile(this.lockPath, 'utf8').catch(() => '')).trim());
      if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && !processAlive(holder)) {
        await unlink(this.lockPath).catch(() => undefined);
        continue;
      }
      if (Date.now() >= deadline) {
        throw err('ERR_TIMEOUT', `pairwise state file ${this.path} is locked by process ${holder || 'unknown'}; if no other didcomm-iot is running, remove ${this.lockPath}`);
      }
      await new Promise((r) => setTimeout(r, this.lockPollMs));
    }
  }
}

function parseState(text: string, path: string): Map<string, Uint8Array> {
  const corrupt = (why: string) => err('ERR_STORE', `pairwise state file ${path} is corrupt (${why}); it guards against nonce reuse, so it is never reset silently`);
  let doc;
  try {
    doc = parseJson(text, 'pairwise state');
  } catch {
    throw corrupt('not JSON');
  }
  if (!isJsonObject(doc) || doc.version !== STATE_VERSION || !isJsonObject(doc.entries)) throw corrupt('unexpected structure');
  const entries = new Map<string, Uint8Array>();
  for (const [k, v] of Object.entries(doc.entries)) {
    if (typeof v !== 'string') throw corrupt(`entry ${k.slice(0, 40)} is not a string`);
    try {
      entries.set(k, fromBase64url(v));
    } catch {
      throw corrupt(`entry ${k.slice(0, 40)} is not base64url`);
    }
  }
  if (entries.size > MAX_ENTRIES) throw corrupt('too many entries');
  return entries;
}
