/**
 * `didcomm-iot ping`: a Trust Ping 2.0 (DIDComm v2.1 §Trust Ping) to a DID over HTTP POST with
 * `return_route: "all"`, so the ping-response comes back in the HTTP response; prints the
 * round-trip time. Authcrypted from `--secrets` (or from a throwaway did:key), JSON or compact.
 */
import { err } from '../../errors.js';
import { createDid } from '../../did/create.js';
import { isDid } from '../../did/document.js';
import { SecretsStore } from '../../did/secrets.js';
import { newMessageId } from '../../message/ids.js';
import { pack, unpack } from '../../envelope/index.js';
import { COMPACT_MEDIA_TYPE } from '../../envelope/compact/frame.js';
import { ENCRYPTED_MEDIA_TYPE } from '../../message/message.js';
import { ping, PING_RESPONSE_TYPE } from '../../protocols/trust-ping.js';
import { intFlag, parseArgs, usageError, type FlagSpecs } from '../args.js';
import { loadKeyMaterial } from '../context.js';
import type { CliIo } from '../io.js';
import type { CliCommand } from '../command.js';

const USAGE = `usage: didcomm-iot ping --to DID --endpoint URL [--secrets FILE] [--format json|compact] [--count N]

Sends a trust ping over HTTP POST with return_route "all" and prints the round-trip time of each
ping-response.

  --to DID             the DID to ping (its keyAgreement key must resolve offline: did:key, did:peer)
  --endpoint URL       its HTTP endpoint
  --secrets FILE       our keys (default: a throwaway did:key)
  --format FMT         json (default) or compact
  --count N            pings to send (default 1)
  --timeout MS         per ping (default 10000)
`;

const FLAGS: FlagSpecs = {
  to: { type: 'string', value: 'DID' },
  endpoint: { type: 'string', value: 'URL' },
  secrets: { type: 'string', multiple: true, value: 'FILE' },
  format: { type: 'string', choices: ['json', 'compact'], value: 'json|compact' },
  count: { type: 'string', value: 'N' },
  timeout: { type: 'string', value: 'MS' },
};

/** POSTs a DIDComm frame and returns the HTTP status and response body (bounded). */
export async function postFrame(url: string, frame: Uint8Array, timeoutMs: number): Promise<{ status: number; body: Uint8Array }> {
  const contentType = frame[0] === 0x7b ? ENCRYPTED_MEDIA_TYPE : COMPACT_MEDIA_TYPE;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body: frame, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    if (e instanceof Error && e.name === 'TimeoutError') throw err('ERR_TIMEOUT', `no answer from ${url} within ${timeoutMs} ms`);
    throw err('ERR_TRANSPORT', `cannot reach ${url}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const body = new Uint8Array(await res.arrayBuffer());
  if (body.length > 16 * 1024 * 1024) throw err('ERR_TOO_LARGE', 'response larger than 16 MiB');
  return { status: res.status, body };
}

export const command: CliCommand = {
  usage: USAGE,
  async run(argv, io: CliIo) {
    const args = parseArgs(argv, FLAGS);
    if (args.positionals.length > 0) throw usageError(`unexpected argument "${args.positionals[0]}"`);
    const to = args.string('to');
    const endpoint = args.string('endpoint');
    if (!to || !isDid(to)) throw usageError('--to DID is required');
    if (!endpoint || !/^https?:\/\//u.test(endpoint)) throw usageError('--endpoint must be an http(s) URL');
    const count = intFlag('count', args.string('count') ?? '1', 1, 1000);
    const timeoutMs = intFlag('timeout', args.string('timeout') ?? '10000', 1, 600_000);
    const format = (args.string('format') ?? 'json') as 'json' | 'compact';
    const secrets = args.strings('secrets');
    const loaded = await loadKeyMaterial(io, { secrets, dids: [] });
    let from = loaded.secretsFiles[0]?.dids[0];
    if (from === undefined) {
      const throwaway = createDid();
      if (!(loaded.ctx.secrets instanceof SecretsStore)) throw err('ERR_ARGUMENT', 'ping: unexpected secrets store');
      loaded.ctx.secrets.addFromJson(throwaway);
      from = throwaway.did;
    }
    let failures = 0;
    for (let i = 0; i < count; i++) {
      const m = { ...ping(newMessageId(loaded.ctx.crypto), from, to), return_route: 'all' as const };
      const frame = (await pack(loaded.ctx, m, { mode: 'authcrypt', format, to: [to], from })).bytes;
      const t0 = performance.now();
      const r = await postFrame(endpoint, frame, timeoutMs);
      const rtt = performance.now() - t0;
      if (r.status !== 200 || r.body.length === 0) {
        failures++;
        io.stdout.write(`no ping-response from ${to} (HTTP ${r.status})\n`);
        continue;
      }
      const reply = await unpack(loaded.ctx, r.body);
      if (reply.message.type !== PING_RESPONSE_TYPE || reply.message.thid !== m.id) {
        failures++;
        io.stdout.write(`unexpected reply ${reply.message.type} (HTTP ${r.status})\n`);
        continue;
      }
      io.stdout.write(`ping-response from ${to}: ${rtt.toFixed(1)} ms (${format}, ${frame.length} B sent, ${r.body.length} B received)\n`);
    }
    if (failures > 0) throw err('ERR_TIMEOUT', `${failures} of ${count} pings got no ping-response`);
    return 0;
  },
};
