/**
 * `didcomm-iot did new`: the secrets-file shape, did:peer with services, and the file rules —
 * created with mode 0600 even under a permissive umask, never overwritten without --force,
 * replaced atomically (still 0600) with it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { SecretsStore } from '../../src/did/secrets.js';
import { OfflineResolver } from '../../src/did/resolver.js';
import { errorCode, run, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const modeOf = (p: string) => statSync(p).mode & 0o777;

describe('did new', () => {
  it('prints a did:key secrets file whose keys load and whose document resolves', async () => {
    const r = await run(['did', 'new']);
    expect(r.code).toBe(0);
    const file = JSON.parse(r.out);
    expect(Object.keys(file)).toEqual(['did', 'didDocument', 'secrets']);
    expect(file.did).toMatch(/^did:key:z6Mk/u);
    expect(file.didDocument.id).toBe(file.did);
    const store = new SecretsStore();
    expect(store.addFromJson(file)).toBe(2);
    for (const s of file.secrets) {
      expect(s.kid.startsWith(`${file.did}#`)).toBe(true);
      expect(typeof s.d).toBe('string');
    }
    // The public keys of the secrets are the document's keys.
    const resolver = new OfflineResolver();
    for (const kid of store.kids()) expect(resolver.key(kid).bytes).toEqual(store.get(kid)!.publicKey);
  });

  it('--service makes a did:peer:2 carrying the endpoints', async () => {
    const r = await run(['did', 'new', '--service', 'https://mediator.example/didcomm', '--service', 'ws://gw.example/ws']);
    expect(r.code).toBe(0);
    const file = JSON.parse(r.out);
    expect(file.did).toMatch(/^did:peer:2\./u);
    expect(JSON.stringify(file.didDocument.service)).toContain('https://mediator.example/didcomm');
    expect(JSON.stringify(file.didDocument.service)).toContain('ws://gw.example/ws');
    expect(file.secrets.map((s: { crv: string }) => s.crv)).toEqual(['Ed25519', 'X25519']);
  });

  it('--key-type P-256 makes a P-256 did:key', async () => {
    const r = await run(['did', 'new', '--key-type', 'P-256']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).did).toMatch(/^did:key:zDn/u);
  });

  it('--out creates the file with mode 0600 even under umask 000, and prints only the DID', async () => {
    const previous = process.umask(0o000);
    try {
      const path = tmp.path('device.json');
      const r = await run(['did', 'new', '--out', path]);
      expect(r.code).toBe(0);
      expect(modeOf(path)).toBe(0o600);
      const file = JSON.parse(readFileSync(path, 'utf8'));
      expect(r.out).toBe(`${file.did}\n`);
      expect(r.err).toBe('');
    } finally {
      process.umask(previous);
    }
  });

  it('relative --out paths resolve against the working directory', async () => {
    const r = await run(['did', 'new', '--out', 'rel.json'], { cwd: tmp.dir });
    expect(r.code).toBe(0);
    expect(existsSync(tmp.path('rel.json'))).toBe(true);
  });

  it('refuses to overwrite an existing file (ERR_REFUSED, file untouched) unless --force', async () => {
    const path = tmp.path('device.json');
    writeFileSync(path, 'precious', { mode: 0o644 });
    const r = await run(['did', 'new', '--out', path]);
    expect(r.code).toBe(1);
    expect(errorCode(r)).toBe('ERR_REFUSED');
    expect(r.errLines).toHaveLength(1);
    expect(r.err).toContain('--force');
    expect(readFileSync(path, 'utf8')).toBe('precious');
    expect(r.out).toBe('');

    const forced = await run(['did', 'new', '--out', path, '--force']);
    expect(forced.code).toBe(0);
    expect(modeOf(path)).toBe(0o600);
    expect(JSON.parse(readFileSync(path, 'utf8')).did).toBe(forced.out.trim());
    // No temporary file is left behind.
    expect(readdirSync(tmp.dir)).toEqual(['device.json']);
  });

  it('an unwritable destination is a typed error', async () => {
    const r = await run(['did', 'new', '--out', tmp.path('missing-dir/device.json')]);
    expect(r.code).toBe(1);
    expect(errorCode(r)).toBe('ERR_ARGUMENT');
    expect(r.errLines).toHaveLength(1);
  });
});
