/**
 * The CLI's file-backed PairwiseStateStore: values survive a new store on the same file, the file
 * is 0600 and replaced atomically, the lock serializes two users of one file (so two invocations
 * never read the same sequence number), a dead holder's lock is taken over, a live holder's lock
 * times out with ERR_TIMEOUT, and a corrupt file is ERR_STORE.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { FilePairwiseStateStore } from '../../src/cli/pairwise-state.js';
import { PairwiseSessions } from '../../src/envelope/compact/pairwise-sessions.js';
import { DidcommError } from '../../src/errors.js';
import { tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('didcomm-state-');
});
afterEach(() => tmp.cleanup());

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e instanceof DidcommError ? e.code : `untyped: ${String(e)}`;
  }
}

describe('FilePairwiseStateStore', () => {
  it('persists values across stores, 0600, with no temporary or lock file left', async () => {
    const path = tmp.path('s.state');
    const a = new FilePairwiseStateStore(path);
    expect(await a.get('pairwise/send/x')).toBeUndefined();
    await a.put('pairwise/send/x', new Uint8Array([1, 2, 3]));
    await a.put('pairwise/recv/y', new Uint8Array([]));
    await a.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(tmp.dir)).toEqual(['s.state']);

    const b = new FilePairwiseStateStore(path);
    expect(await b.get('pairwise/send/x')).toEqual(new Uint8Array([1, 2, 3]));
    expect(await b.get('pairwise/recv/y')).toEqual(new Uint8Array([]));
    await b.close();
  });

  it('concurrent puts on one store keep every entry', async () => {
    const path = tmp.path('s.state');
    const a = new FilePairwiseStateStore(path);
    await Promise.all(Array.from({ length: 20 }, (_, i) => a.put(`k${i}`, new Uint8Array([i]))));
    await a.close();
    const b = new FilePairwiseStateStore(path);
    for (let i = 0; i < 20; i++) expect(await b.get(`k${i}`)).toEqual(new Uint8Array([i]));
    await b.close();
  });

  it('the lock serializes two users: the second sees the first one’s write', async () => {
    const path = tmp.path('s.state');
    const a = new FilePairwiseStateStore(path, { lockPollMs: 1 });
    const b = new FilePairwiseStateStore(path, { lockPollMs: 1 });
    expect(await a.get('seq')).toBeUndefined();
    expect(existsSync(`${path}.lock`)).toBe(true);
    const bRead = b.get('seq');
    await a.put('seq', new Uint8Array([7]));
    await a.close();
    expect(await bRead).toEqual(new Uint8Array([7]));
    await b.close();
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('two PairwiseSessions on one state file (two CLI invocations) never hand out the same sequence number', async () => {
    const path = tmp.path('s.state');
    // A stand-in context: nextSeq only needs contextId(c), i.e. idContext and senderId.
    const c = { idContext: new Uint8Array(8).fill(9), senderId: new Uint8Array([0]) } as never;
    const seqs: number[] = [];
    for (let round = 0; round < 3; round++) {
      const stores = [new FilePairwiseStateStore(path, { lockPollMs: 1 }), new FilePairwiseStateStore(path, { lockPollMs: 1 })];
      const sessions = stores.map((store) => new PairwiseSessions({} as never, { store, reserveBlock: 1 }));
      // Each "invocation" holds the lock from its first read to its close.
      await Promise.all(
        sessions.map(async (s, i) => {
          seqs.push(await s.nextSeq(c));
          await stores[i]!.close();
        }),
      );
    }
    expect(new Set(seqs).size).toBe(6);
    expect([...seqs].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('takes over a lock left by a dead process', async () => {
    const path = tmp.path('s.state');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(`${path}.lock`, dead.stdout);
    const a = new FilePairwiseStateStore(path, { lockTimeoutMs: 5_000 });
    await a.put('k', new Uint8Array([1]));
    expect(readFileSync(`${path}.lock`, 'utf8')).toBe(String(process.pid));
    await a.close();
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('a lock held by a live process times out with ERR_TIMEOUT and is left alone', async () => {
    const path = tmp.path('s.state');
    writeFileSync(`${path}.lock`, String(process.ppid));
    const a = new FilePairwiseStateStore(path, { lockTimeoutMs: 30, lockPollMs: 5 });
    expect(await codeOf(a.get('k'))).toBe('ERR_TIMEOUT');
    await a.close();
    expect(readFileSync(`${path}.lock`, 'utf8')).toBe(String(process.ppid));
  });

  it.each([
    ['not JSON', 'garbage'],
    ['wrong version', '{"version":2,"entries":{}}'],
    ['non-string entry', '{"version":1,"entries":{"k":1}}'],
    ['bad base64url', '{"version":1,"entries":{"k":"@@"}}'],
  ])('a corrupt file (%s) is ERR_STORE and stays as it was', async (_why, text) => {
    const path = tmp.path('s.state');
    writeFileSync(path, text, { mode: 0o600 });
    const a = new FilePairwiseStateStore(path);
    expect(await codeOf(a.get('k'))).toBe('ERR_STORE');
    expect(await codeOf(a.put('k', new Uint8Array([1])))).toBe('ERR_STORE');
    await a.close();
    expect(readFileSync(path, 'utf8')).toBe(text);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });
});
