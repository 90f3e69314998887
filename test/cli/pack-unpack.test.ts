/**
 * `didcomm-iot pack` / `unpack` in-process: every mode in both formats round-trips through the
 * files `did new` writes, with the documented meta; the DIDComm v2 spec vectors unpack with keys
 * given as `--secrets` / `--dids` files; pairwise sequence numbers persist across invocations and
 * replays are refused; every failure is exit 1 with one typed `error: CODE: ...` line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { parsePairwise } from '../../src/envelope/compact/pairwise.js';
import { ERROR_CODES } from '../../src/errors.js';
import { specVectors } from '../helpers/spec-vectors.js';
import { errorCode, run, specKeyFiles, tempDir, writeJsonFile } from './helpers.js';

const META_KEYS = ['format', 'encrypted', 'authenticated', 'nonRepudiation', 'anonymousSender', 'senderKid', 'recipientKid', 'signerKid', 'alg', 'enc'];

let tmp: ReturnType<typeof tempDir>;
let alice: string;
let bob: string;
let carol: string;
const files = { alice: '', bob: '', carol: '' };
let message: Record<string, unknown>;

beforeAll(async () => {
  tmp = tempDir();
  for (const name of ['alice', 'bob', 'carol'] as const) {
    files[name] = tmp.path(`${name}.json`);
    const r = await run(['did', 'new', '--out', files[name]]);
    expect(r.code).toBe(0);
  }
  [alice, bob, carol] = (['alice', 'bob', 'carol'] as const).map((n) => JSON.parse(readFileSync(files[n], 'utf8')).did as string) as [string, string, string];
  message = { id: 'r-1', type: 'https://didcomm.org/telemetry/1.0/report', from: alice, to: [bob], created_time: 1732250000, body: { temp: 21.5, hum: 40 } };
});
afterAll(() => tmp.cleanup());

interface Case {
  name: string;
  args: string[];
  unpackArgs?: string[];
  meta: Record<string, unknown>;
}

const cases = (format: 'json' | 'compact'): Case[] => [
  { name: 'plain', args: ['--mode', 'plain'], meta: { encrypted: false, authenticated: false, senderKid: null, recipientKid: null, signerKid: null } },
  { name: 'signed', args: ['--mode', 'signed'], meta: { authenticated: true, nonRepudiation: true, encrypted: false, signerKid: expect.stringMatching(/^did:key:.*#/u) } },
  { name: 'anoncrypt', args: ['--mode', 'anoncrypt'], meta: { encrypted: true, anonymousSender: true, authenticated: false, recipientKid: expect.stringContaining('#') } },
  { name: 'authcrypt', args: ['--mode', 'authcrypt'], meta: { encrypted: true, authenticated: true, anonymousSender: false, nonRepudiation: false, senderKid: expect.any(String) } },
  { name: 'anoncrypt --sign', args: ['--mode', 'anoncrypt', '--sign'], meta: { encrypted: true, nonRepudiation: true, anonymousSender: true, signerKid: expect.any(String) } },
  { name: 'authcrypt --sign', args: ['--mode', 'authcrypt', '--sign'], meta: { encrypted: true, authenticated: true, nonRepudiation: true } },
  { name: 'authcrypt --protect-sender', args: ['--mode', 'authcrypt', '--protect-sender'], meta: { encrypted: true, authenticated: true, anonymousSender: true } },
  ...(format === 'json'
    ? [
        { name: 'anoncrypt --enc A256GCM', args: ['--mode', 'anoncrypt', '--enc', 'A256GCM'], meta: { enc: 'A256GCM', alg: 'ECDH-ES+A256KW' } },
        { name: 'anoncrypt --enc XC20P', args: ['--mode', 'anoncrypt', '--enc', 'XC20P'], meta: { enc: 'XC20P' } },
      ]
    : [{ name: 'authcrypt --hints 2', args: ['--mode', 'authcrypt', '--hints', '2'], unpackArgs: ['--peer', '<alice>'], meta: { encrypted: true, authenticated: true } }]),
];

describe.each(['json', 'compact'] as const)('round trip, --format %s', (format) => {
  it.each(cases(format).map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const packed = await run(['pack', ...c.args, '--format', format, '--to', bob, '--from', alice, '--secrets', files.alice], { stdin: JSON.stringify(message) });
    expect(packed.err).toBe('');
    expect(packed.code).toBe(0);
    if (format === 'json') {
      expect(packed.out.endsWith('}\n')).toBe(true);
      JSON.parse(packed.out);
    } else expect(packed.stdout[0]! >> 4).toBe(0xe);

    const unpackArgs = (c.unpackArgs ?? []).map((a) => (a === '<alice>' ? alice : a));
    const opened = await run(['unpack', '--secrets', files.bob, ...unpackArgs], { stdin: packed.stdout });
    expect(opened.err).toBe('');
    expect(opened.code).toBe(0);
    const out = JSON.parse(opened.out);
    expect(Object.keys(out)).toEqual(['message', 'meta']);
    const { typ: _typ, ...got } = out.message;
    expect(got).toEqual(message);
    for (const k of META_KEYS) expect(out.meta).toHaveProperty(k);
    for (const v of Object.values(out.meta)) expect(v).not.toBeUndefined();
    expect(out.meta).toMatchObject({ format, ...c.meta });
  });
});

describe('files and streams', () => {
  it('--in / --out: JSON envelopes are text with a newline, compact frames raw bytes', async () => {
    writeFileSync(tmp.path('m.json'), JSON.stringify(message));
    const j = await run(['pack', '--mode', 'anoncrypt', '--to', bob, '--in', tmp.path('m.json'), '--out', tmp.path('e.json')]);
    expect(j).toMatchObject({ code: 0, out: '', err: '' });
    expect(readFileSync(tmp.path('e.json'), 'utf8')).toMatch(/^\{.*\}\n$/su);
    const c = await run(['pack', '--mode', 'anoncrypt', '--format', 'compact', '--to', bob, '--in', 'm.json', '--out', 'e.cbor'], { cwd: tmp.dir });
    expect(c.code).toBe(0);
    const frame = readFileSync(tmp.path('e.cbor'));
    expect(frame[0]).toBe(0xe5);
    const opened = await run(['unpack', '--secrets', files.bob, '--in', tmp.path('e.cbor')]);
    expect(opened.code).toBe(0);
    expect(JSON.parse(opened.out).meta.format).toBe('compact');
  });

  it('--dids accepts an array and a DID → document map; the secrets file’s own document is provisioned', async () => {
    const docs = [alice, bob].map((n) => JSON.parse(readFileSync(n === alice ? files.alice : files.bob, 'utf8')).didDocument);
    writeJsonFile(tmp.path('docs-array.json'), docs, 0o644);
    writeJsonFile(tmp.path('docs-map.json'), Object.fromEntries(docs.map((d) => [d.id, d])), 0o644);
    for (const dids of ['docs-array.json', 'docs-map.json']) {
      const packed = await run(['pack', '--mode', 'authcrypt', '--format', 'compact', '--hints', '1', '--to', bob, '--from', alice, '--secrets', files.alice, '--dids', dids], { stdin: JSON.stringify(message), cwd: tmp.dir });
      expect(packed.code).toBe(0);
      const opened = await run(['unpack', '--secrets', files.bob, '--dids', dids], { stdin: packed.stdout, cwd: tmp.dir });
      expect(opened.err).toBe('');
      expect(JSON.parse(opened.out).meta.senderKid.startsWith(alice)).toBe(true);
    }
    writeJsonFile(tmp.path('docs-bad.json'), { 'not-a-did': {} }, 0o644);
    const bad = await run(['unpack', '--dids', 'docs-bad.json'], { stdin: '{}', cwd: tmp.dir });
    expect(bad.code).toBe(1);
    expect(errorCode(bad)).toBe('ERR_MALFORMED');
  });
});

describe('pairwise', () => {
  const packPairwise = () => run(['pack', '--mode', 'pairwise', '--format', 'compact', '--from', alice, '--to', bob, '--secrets', files.alice], { stdin: JSON.stringify(message) });
  const unpackPairwise = (frame: Uint8Array) => run(['unpack', '--secrets', files.bob, '--peer', alice], { stdin: frame });

  it('never reuses a sequence number across invocations, and refuses replays across invocations', async () => {
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await packPairwise();
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      frames.push(r.stdout);
    }
    expect(frames.map((f) => parsePairwise(f).seq)).toEqual([0, 1, 2]);
    const state = `${files.alice}.pairwise-state`;
    expect(statSync(state).mode & 0o777).toBe(0o600);
    expect(existsSync(`${state}.lock`)).toBe(false);

    for (const i of [2, 0, 1]) {
      const r = await unpackPairwise(frames[i]!);
      expect(r.err).toBe('');
      const out = JSON.parse(r.out);
      expect(out.meta).toMatchObject({ format: 'compact', encrypted: true, authenticated: true, layers: ['pairwise'] });
      expect(out.message.body).toEqual(message.body);
    }
    expect(statSync(`${files.bob}.pairwise-state`).mode & 0o777).toBe(0o600);
    const replay = await unpackPairwise(frames[0]!);
    expect(replay.code).toBe(1);
    expect(errorCode(replay)).toBe('ERR_REPLAY');
    expect(replay.errLines).toHaveLength(1);
  });

  it('--state names the state file explicitly', async () => {
    const state = tmp.path('explicit.state');
    const a = await run(['pack', '--mode', 'pairwise', '--format', 'compact', '--from', alice, '--to', carol, '--secrets', files.alice, '--state', state], { stdin: JSON.stringify({ ...message, to: [carol] }) });
    expect(a.code).toBe(0);
    expect(existsSync(state)).toBe(true);
  });

  it('a corrupt state file is refused, never reset', async () => {
    const state = tmp.path('corrupt.state');
    writeFileSync(state, '{"version":1,"entries":{"k":42}}', { mode: 0o600 });
    const r = await run(['pack', '--mode', 'pairwise', '--format', 'compact', '--from', alice, '--to', bob, '--secrets', files.alice, '--state', state], { stdin: JSON.stringify(message) });
    expect(r.code).toBe(1);
    expect(errorCode(r)).toBe('ERR_STORE');
    expect(readFileSync(state, 'utf8')).toBe('{"version":1,"entries":{"k":42}}');
  });
});

describe('spec vectors (DIDComm v2.1 Appendix C) with --secrets / --dids files', () => {
  let keys: ReturnType<typeof specKeyFiles>;
  beforeAll(() => {
    keys = specKeyFiles(tmp.dir);
  });
  it.each(specVectors().map((v) => [v.name, v] as const))('%s', async (_name, v) => {
    const r = await run(['unpack', '--secrets', keys.bobSecrets, '--dids', keys.dids], { stdin: v.message });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    expect(out.message).toEqual(JSON.parse(v.expected_plaintext));
    expect(out.meta.format).toBe('json');
    if (v.kind === 'signed') expect(out.meta).toMatchObject({ nonRepudiation: true, signerKid: v.signer_kid, alg: v.alg, encrypted: false });
    else {
      expect(out.meta.encrypted).toBe(true);
      expect(v.recipient_kids).toContain(out.meta.recipientKid);
    }
    if (v.kind === 'authcrypt') expect(out.meta).toMatchObject({ authenticated: true, senderKid: v.sender_kid, enc: v.enc });
  });
});

describe('failures: exit 1, one typed line', () => {
  const expectError = (r: Awaited<ReturnType<typeof run>>, code: string) => {
    expect(r.code).toBe(1);
    expect(r.errLines).toHaveLength(1);
    expect(errorCode(r)).toBe(code);
    expect(r.out).toBe('');
  };

  it('bad JSON input → ERR_MALFORMED', async () => {
    expectError(await run(['pack', '--mode', 'plain'], { stdin: '{"id": "1", "type": ' }), 'ERR_MALFORMED');
    expectError(await run(['pack', '--mode', 'plain'], { stdin: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) }), 'ERR_MALFORMED');
    expectError(await run(['pack', '--mode', 'plain'], { stdin: '[1,2]' }), 'ERR_MALFORMED');
  });

  it('a message breaking the DIDComm rules → ERR_INVALID_MESSAGE', async () => {
    expectError(await run(['pack', '--mode', 'plain'], { stdin: '{"id":"1"}' }), 'ERR_INVALID_MESSAGE');
  });

  it('neither JSON nor compact → ERR_MALFORMED; an oversized envelope → ERR_TOO_LARGE', async () => {
    expectError(await run(['unpack'], { stdin: 'hello' }), 'ERR_MALFORMED');
    expectError(await run(['unpack'], { stdin: new Uint8Array(1024 * 1024 + 1).fill(0x20) }), 'ERR_TOO_LARGE');
  });

  it('tampered envelopes → typed errors', async () => {
    const json = await run(['pack', '--mode', 'authcrypt', '--to', bob, '--from', alice, '--secrets', files.alice], { stdin: JSON.stringify(message) });
    const env = JSON.parse(json.out);
    const ct: string = env.ciphertext;
    const i = ct.length >> 1;
    env.ciphertext = ct.slice(0, i) + (ct[i] === 'A' ? 'B' : 'A') + ct.slice(i + 1);
    expectError(await run(['unpack', '--secrets', files.bob], { stdin: JSON.stringify(env) }), 'ERR_DECRYPTION_FAILED');

    const compact = await run(['pack', '--mode', 'authcrypt', '--format', 'compact', '--to', bob, '--from', alice, '--secrets', files.alice], { stdin: JSON.stringify(message) });
    for (const at of [compact.stdout.length - 1, compact.stdout.length >> 1, 1]) {
      const t = compact.stdout.slice();
      t[at]! ^= 0x01;
      const r = await run(['unpack', '--secrets', files.bob], { stdin: t });
      expect(r.code).toBe(1);
      expect(r.errLines).toHaveLength(1);
      expect(ERROR_CODES).toContain(errorCode(r));
    }
  });

  it('the wrong recipient’s keys → a typed error', async () => {
    const packed = await run(['pack', '--mode', 'anoncrypt', '--to', bob], { stdin: JSON.stringify(message) });
    const r = await run(['unpack', '--secrets', files.carol], { stdin: packed.stdout });
    expect(r.code).toBe(1);
    expect(['ERR_SECRET_NOT_FOUND', 'ERR_DECRYPTION_FAILED']).toContain(errorCode(r));
  });

  it.each([['0644', 0o644], ['0640', 0o640], ['0604', 0o604], ['0660', 0o660]] as const)('a secrets file with mode %s → ERR_NOT_AUTHORIZED with the chmod fix', async (_octal, mode) => {
    const path = tmp.path(`open-${mode.toString(8)}.json`);
    writeFileSync(path, readFileSync(files.bob));
    chmodSync(path, mode);
    for (const argv of [['unpack', '--secrets', path], ['pack', '--mode', 'signed', '--secrets', path]]) {
      const r = await run(argv, { stdin: JSON.stringify(message) });
      expectError(r, 'ERR_NOT_AUTHORIZED');
      expect(r.err).toContain(`chmod 600 ${path}`);
    }
  });

  it('a malformed secrets file → ERR_MALFORMED; a missing one → ERR_ARGUMENT', async () => {
    const path = writeJsonFile(tmp.path('bad-secrets.json'), { keys: [] });
    expectError(await run(['unpack', '--secrets', path], { stdin: '{}' }), 'ERR_MALFORMED');
    writeFileSync(path, 'not json', { mode: 0o600 });
    expectError(await run(['unpack', '--secrets', path], { stdin: '{}' }), 'ERR_MALFORMED');
    expectError(await run(['unpack', '--secrets', tmp.path('nope.json')], { stdin: '{}' }), 'ERR_ARGUMENT');
  });

  it('signing without the signer’s secrets → ERR_SECRET_NOT_FOUND', async () => {
    expectError(await run(['pack', '--mode', 'signed', '--secrets', files.bob], { stdin: JSON.stringify(message) }), 'ERR_SECRET_NOT_FOUND');
  });
});
