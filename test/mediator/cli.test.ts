/**
 * The mediator's CLI commands in-process: `mediator` (prints DID, endpoints, invitation; creates
 * its secrets file 0600; clean shutdown; same DID after restart), `ping` (trust ping with
 * return_route, round-trip time) and `pickup` (requests mediation, prints JSON lines, acknowledges).
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fromUtf8 } from '../../src/util/bytes.js';
import { fromBase64url } from '../../src/util/base64url.js';
import { OfflineResolver } from '../../src/did/resolver.js';
import type { CliIo } from '../../src/cli/io.js';
import { serveMediator } from '../../src/cli/commands/mediator.js';
import { command as pingCommand } from '../../src/cli/commands/ping.js';
import { command as pickupCommand } from '../../src/cli/commands/pickup.js';
import { forwardTo, makeParty } from './helpers.js';

interface CapturedIo extends CliIo {
  out: string[];
  errOut: string[];
}

function captureIo(cwd: string): CapturedIo {
  const out: string[] = [];
  const errOut: string[] = [];
  return { stdin: [], stdout: { write: (c) => out.push(String(c)) }, stderr: { write: (c) => errOut.push(String(c)) }, env: {}, cwd, out, errOut };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function startCli(dir: string): Promise<{ io: CapturedIo; stop: () => Promise<number>; did: string; url: string; invitation: string }> {
  const io = captureIo(dir);
  const ctl = new AbortController();
  const running = serveMediator(['--data-dir', 'data', '--http', '0', '--host', '127.0.0.1'], io, ctl.signal);
  for (let i = 0; i < 400 && !io.out.join('').includes('invitation JSON'); i++) await new Promise((r) => setTimeout(r, 10));
  const text = io.out.join('');
  const did = /mediator DID: (\S+)/u.exec(text)?.[1];
  const url = /HTTP endpoint: (\S+)/u.exec(text)?.[1];
  const invitation = /invitation URL: (\S+)/u.exec(text)?.[1];
  if (!did || !url || !invitation) throw new Error(`no banner: ${text} ${io.errOut.join('')}`);
  return { io, did, url, invitation, stop: async () => (ctl.abort(), running) };
}

describe('didcomm-iot mediator / ping / pickup', () => {
  it('serves, answers pings, and picks up mail for a device', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'med-cli-'));
    dirs.push(dir);
    const m = await startCli(dir);
    expect(statSync(join(dir, 'data', 'mediator-secrets.json')).mode & 0o777).toBe(0o600);
    const inv = JSON.parse(fromUtf8(fromBase64url(new URL(m.invitation).searchParams.get('_oob')!)));
    expect(inv).toMatchObject({ type: 'https://didcomm.org/out-of-band/2.0/invitation', from: m.did, body: { goal_code: 'mediate' } });
    expect(m.io.out.join('')).toContain(`invitation JSON: ${JSON.stringify(inv)}`);

    const pingIo = captureIo(dir);
    expect(await pingCommand.run(['--to', m.did, '--endpoint', m.url, '--count', '2', '--format', 'compact'], pingIo)).toBe(0);
    expect(pingIo.out.join('')).toMatch(/ping-response from did:peer:2\S+: \d+\.\d ms \(compact/u);

    const device = makeParty();
    writeFileSync(join(dir, 'device.json'), JSON.stringify(device.file), { mode: 0o600 });
    const first = captureIo(dir);
    expect(await pickupCommand.run(['--secrets', 'device.json', '--mediator', m.invitation], first)).toBe(0);
    expect(first.out).toEqual([]);

    const medKid = new OfflineResolver().keyAgreementKeys(m.did)[0]!.kid;
    const sent = [];
    for (const format of ['json', 'compact'] as const) {
      const f = await forwardTo(makeParty(), device.did, { did: m.did, kid: medKid }, { format }, format);
      const r = await fetch(m.url, { method: 'POST', headers: { 'content-type': format === 'json' ? 'application/didcomm-encrypted+json' : 'application/didcomm-compact' }, body: f.bytes });
      expect(r.status).toBe(202);
      sent.push(f.message);
    }
    const second = captureIo(dir);
    expect(await pickupCommand.run(['--secrets', 'device.json', '--mediator', m.url, '--mediator-did', m.did, '--format', 'compact'], second)).toBe(0);
    const lines = second.out.join('').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.message)).toEqual(sent);
    expect(lines[0].meta).toMatchObject({ authenticated: true, format: 'json' });
    const third = captureIo(dir);
    expect(await pickupCommand.run(['--secrets', 'device.json', '--mediator', m.invitation], third)).toBe(0);
    expect(third.out).toEqual([]);

    expect(await m.stop()).toBe(0);
    expect(m.io.out.join('')).toContain('mediator stopped');
    const again = await startCli(dir);
    expect(again.did).toBe(m.did);
    await again.stop();
  }, 30_000);

  it('usage errors are typed', async () => {
    const io = captureIo(tmpdir());
    await expect(pingCommand.run(['--to', 'nope', '--endpoint', 'http://x'], io)).rejects.toMatchObject({ code: 'ERR_USAGE' });
    await expect(pickupCommand.run(['--mediator', 'http://x'], io)).rejects.toMatchObject({ code: 'ERR_USAGE' });
    await expect(serveMediator(['--http', 'eighty'], io, AbortSignal.abort())).rejects.toMatchObject({ code: 'ERR_USAGE' });
  });
});
