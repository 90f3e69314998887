/**
 * The real built binary, end to end (`node bin/didcomm-iot.js ...` in child processes, the way
 * other tools call it): did new → pack (every mode, both formats; compact frames as raw bytes on
 * standard output) → unpack; a spec vector with --secrets/--dids files; pairwise state across
 * processes; exit statuses and the one-line error format.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, ROOT } from '../build/ensure-dist.js';
import { loadVector } from '../helpers/spec-vectors.js';
import { specKeyFiles, tempDir } from './helpers.js';

const BIN = join(ROOT, 'bin', 'didcomm-iot.js');

interface Exec {
  status: number | null;
  stdout: Buffer;
  out: string;
  err: string;
}

function cli(args: string[], input?: string | Uint8Array): Exec {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, cwd: tmp.dir, env: { ...process.env, DEBUG: '' }, timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, out: r.stdout.toString('utf8'), err: r.stderr.toString('utf8') };
}

let tmp: ReturnType<typeof tempDir>;
let alice: string;
let bob: string;
let message: string;

beforeAll(async () => {
  await ensureBuilt();
  tmp = tempDir('didcomm-e2e-');
  const a = cli(['did', 'new', '--out', 'alice.json']);
  const b = cli(['did', 'new', '--method', 'peer', '--service', 'https://bob.example/didcomm', '--out', 'bob.json']);
  expect(a.status).toBe(0);
  expect(b.status).toBe(0);
  alice = a.out.trim();
  bob = b.out.trim();
  message = JSON.stringify({ id: 'e2e-1', type: 'https://didcomm.org/telemetry/1.0/report', from: alice, to: [bob], body: { temp: 19.25 } });
}, 300_000);
afterAll(() => tmp?.cleanup());

describe('didcomm-iot binary', () => {
  it('did new --out writes a 0600 file, prints only the DID, and refuses to overwrite', () => {
    expect(alice).toMatch(/^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+$/u);
    expect(bob).toMatch(/^did:peer:2\./u);
    expect(statSync(tmp.path('alice.json')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(tmp.path('alice.json'), 'utf8')).did).toBe(alice);
    const again = cli(['did', 'new', '--out', 'alice.json']);
    expect(again.status).toBe(1);
    expect(again.err).toMatch(/^error: ERR_REFUSED: [^\n]+\n$/u);
    expect(JSON.parse(readFileSync(tmp.path('alice.json'), 'utf8')).did).toBe(alice);
  });

  const modes: Array<[string, string[]]> = [
    ['plain', ['--mode', 'plain']],
    ['signed', ['--mode', 'signed']],
    ['anoncrypt', ['--mode', 'anoncrypt']],
    ['authcrypt', ['--mode', 'authcrypt']],
    ['anoncrypt --sign', ['--mode', 'anoncrypt', '--sign']],
  ];
  for (const format of ['json', 'compact']) {
    it.each(modes)(`pack %s --format ${format} → unpack round-trips through standard streams`, (_name, modeArgs) => {
      const packed = cli(['pack', ...modeArgs, '--format', format, '--to', bob, '--secrets', 'alice.json'], message);
      expect(packed.err).toBe('');
      expect(packed.status).toBe(0);
      if (format === 'compact') expect(packed.stdout[0]! & 0xf0).toBe(0xe0);
      else expect(packed.out.trimEnd().startsWith('{')).toBe(true);
      const opened = cli(['unpack', '--secrets', 'bob.json'], packed.stdout);
      expect(opened.err).toBe('');
      expect(opened.status).toBe(0);
      const out = JSON.parse(opened.out);
      expect({ ...out.message, typ: undefined }).toEqual({ ...JSON.parse(message), typ: undefined });
      expect(out.meta.format).toBe(format);
      for (const k of ['encrypted', 'authenticated', 'nonRepudiation', 'anonymousSender', 'senderKid', 'recipientKid', 'signerKid', 'alg', 'enc']) expect(out.meta).toHaveProperty(k);
    });
  }

  it('pairwise: sequence numbers persist across processes and a replay is refused', () => {
    const frames = [0, 1].map(() => {
      const r = cli(['pack', '--mode', 'pairwise', '--format', 'compact', '--from', alice, '--to', bob, '--secrets', 'alice.json'], message);
      expect(r.status).toBe(0);
      return r.stdout;
    });
    expect(Buffer.compare(frames[0]!, frames[1]!)).not.toBe(0);
    for (const f of frames) expect(cli(['unpack', '--secrets', 'bob.json', '--peer', alice], f).status).toBe(0);
    const replay = cli(['unpack', '--secrets', 'bob.json', '--peer', alice], frames[1]);
    expect(replay.status).toBe(1);
    expect(replay.err).toMatch(/^error: ERR_REPLAY: [^\n]+\n$/u);
  });

  it('unpacks a spec vector with --secrets / --dids files', () => {
    const keys = specKeyFiles(tmp.dir);
    const v = loadVector('spec-c3-authcrypt-x25519-a256cbc-hs512.json');
    writeFileSync(tmp.path('vector.json'), v.message);
    const r = cli(['unpack', '--secrets', keys.bobSecrets, '--dids', keys.dids, '--in', 'vector.json']);
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.out);
    expect(out.message).toEqual(JSON.parse(v.expected_plaintext));
    expect(out.meta).toMatchObject({ format: 'json', encrypted: true, authenticated: true, senderKid: 'did:example:alice#key-x25519-1', alg: 'ECDH-1PU+A256KW', enc: 'A256CBC-HS512' });
  });

  it('bad input JSON → exit 1, exactly one line "error: ERR_MALFORMED: ..."', () => {
    const r = cli(['pack', '--mode', 'plain'], '{"id": ');
    expect(r.status).toBe(1);
    expect(r.err).toMatch(/^error: ERR_MALFORMED: [^\n]+\n$/u);
    expect(r.out).toBe('');
  });

  it('a tampered envelope → exit 1 with a typed code and no stack trace', () => {
    const packed = cli(['pack', '--mode', 'authcrypt', '--format', 'compact', '--to', bob, '--secrets', 'alice.json'], message);
    const t = Buffer.from(packed.stdout);
    t[t.length - 3]! ^= 0x40;
    const r = cli(['unpack', '--secrets', 'bob.json'], t);
    expect(r.status).toBe(1);
    expect(r.err).toMatch(/^error: ERR_[A-Z_]+: [^\n]+\n$/u);
    expect(r.err).not.toContain('    at ');
  });

  it('an unknown flag → exit 2 with ERR_USAGE and a usage hint', () => {
    const r = cli(['unpack', '--frobnicate']);
    expect(r.status).toBe(2);
    const lines = r.err.trimEnd().split('\n');
    expect(lines[0]).toBe('error: ERR_USAGE: unknown option --frobnicate');
    expect(lines[1]).toMatch(/^usage: didcomm-iot unpack /u);
  });

  it('a world-readable secrets file → exit 1 ERR_NOT_AUTHORIZED with the chmod fix', () => {
    writeFileSync(tmp.path('open.json'), readFileSync(tmp.path('bob.json')));
    chmodSync(tmp.path('open.json'), 0o644);
    const r = cli(['unpack', '--secrets', 'open.json'], '{}');
    expect(r.status).toBe(1);
    expect(r.err).toMatch(/^error: ERR_NOT_AUTHORIZED: [^\n]*chmod 600 open\.json[^\n]*\n$/u);
  });

  it('--help exits 0 on every command; --version prints the version', () => {
    for (const argv of [['--help'], ['did', '--help'], ['pack', '-h'], ['unpack', '--help']]) {
      const r = cli(argv);
      expect(r.status).toBe(0);
      expect(r.out.startsWith('usage: didcomm-iot')).toBe(true);
    }
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(cli(['--version']).out).toBe(`${pkg.version}\n`);
  });
});
