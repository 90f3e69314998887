/**
 * `didcomm-iot pickup`: fetches the mail a mediator holds for us (Message Pickup 3.0 over HTTP
 * POST with `return_route: "all"`). Requests mediation first when needed (Coordinate Mediation
 * 2.0: mediate-request, keylist-update adding our DID), then loops delivery-request → unpack each
 * message → print it as one JSON line `{"id", "message", "meta"}` → messages-received, until the
 * mediator answers with a status. `--mediator` takes the endpoint URL or the mediator's
 * out-of-band invitation URL (`?_oob=`), whose `from` gives the mediator DID.
 */
import { err } from '../../errors.js';
import { fromUtf8 } from '../../util/bytes.js';
import { fromBase64Lenient, toBase64url } from '../../util/base64url.js';
import { parseJsonObject } from '../../util/json.js';
import { isDid } from '../../did/document.js';
import { newMessageId } from '../../message/ids.js';
import type { Message } from '../../message/message.js';
import { pack, unpack, type EnvelopeContext } from '../../envelope/index.js';
import * as C from '../../protocols/coordinate-mediation.js';
import * as P from '../../protocols/pickup.js';
import { PROBLEM_REPORT_TYPE, parseProblemReport } from '../../protocols/report-problem.js';
import { intFlag, parseArgs, usageError, type FlagSpecs } from '../args.js';
import { loadKeyMaterial } from '../context.js';
import type { CliIo } from '../io.js';
import type { CliCommand } from '../command.js';
import { metaJson } from './unpack.js';
import { postFrame } from './ping.js';

const USAGE = `usage: didcomm-iot pickup --secrets FILE --mediator URL [--mediator-did DID] [--limit N]

Picks up the messages a mediator holds for our DID (requesting mediation first if needed),
prints each as one JSON line {"id": ..., "message": {...}, "meta": {...}} (or {"id", "error",
"base64"} for one we cannot unpack), and acknowledges them.

  --secrets FILE       our keys (the DID whose mail is picked up)
  --mediator URL       the mediator's HTTP endpoint, or its invitation URL (?_oob=...)
  --mediator-did DID   the mediator's DID (default: from the invitation URL)
  --format FMT         json (default) or compact requests
  --limit N            messages per delivery (default 100)
  --timeout MS         per request (default 30000)
`;

const FLAGS: FlagSpecs = {
  secrets: { type: 'string', multiple: true, value: 'FILE' },
  mediator: { type: 'string', value: 'URL' },
  'mediator-did': { type: 'string', value: 'DID' },
  format: { type: 'string', choices: ['json', 'compact'], value: 'json|compact' },
  limit: { type: 'string', value: 'N' },
  timeout: { type: 'string', value: 'MS' },
};

/** The endpoint and, from an `?_oob=` invitation URL, the mediator DID. */
export function mediatorTarget(url: string): { endpoint: string; did: string | undefined } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw usageError('--mediator must be a URL');
  }
  const oob = u.searchParams.get('_oob');
  if (oob === null) return { endpoint: url, did: undefined };
  const inv = parseJsonObject(fromUtf8(fromBase64Lenient(oob, 'invitation')), 'invitation');
  u.search = '';
  return { endpoint: u.toString(), did: typeof inv.from === 'string' && isDid(inv.from) ? inv.from : undefined };
}

interface Client {
  ctx: EnvelopeContext;
  did: string;
  mediator: string;
  endpoint: string;
  format: 'json' | 'compact';
  timeoutMs: number;
}

async function request(c: Client, m: Message): Promise<Message> {
  const frame = (await pack(c.ctx, m, { mode: 'authcrypt', format: c.format, to: [c.mediator], from: c.did })).bytes;
  const r = await postFrame(c.endpoint, frame, c.timeoutMs);
  if (r.status !== 200 || r.body.length === 0) throw err(r.status === 403 ? 'ERR_NOT_AUTHORIZED' : r.status === 429 ? 'ERR_RATE_LIMITED' : 'ERR_TRANSPORT', `mediator answered HTTP ${r.status} to ${m.type}`);
  const reply = await unpack(c.ctx, r.body);
  return reply.message;
}

function problem(m: Message): string | undefined {
  return m.type === PROBLEM_REPORT_TYPE ? parseProblemReport(m).code : undefined;
}

/** Makes sure the mediator routes for `c.did`: grant + our DID in the keylist. */
async function ensureMediation(c: Client): Promise<void> {
  const id = (): string => newMessageId(c.ctx.crypto);
  let keys = await request(c, C.keylistQuery(id(), c.did, c.mediator));
  if (problem(keys) !== undefined) {
    const grant = await request(c, C.mediateRequest(id(), c.did, c.mediator));
    if (grant.type !== C.MEDIATE_GRANT_TYPE) throw err('ERR_REFUSED', `mediation was not granted (${grant.type}${problem(grant) ? `: ${problem(grant)}` : ''})`);
    keys = await request(c, C.keylistQuery(id(), c.did, c.mediator));
  }
  if (keys.type === C.KEYLIST_TYPE && C.parseKeylist(keys).recipientDids.includes(c.did)) return;
  const upd = await request(c, C.keylistUpdate(id(), c.did, c.mediator, [{ recipientDid: c.did, action: 'add' }]));
  if (upd.type !== C.KEYLIST_UPDATE_RESPONSE_TYPE) throw err('ERR_REFUSED', `keylist-update refused (${problem(upd) ?? upd.type})`);
  const r = C.parseKeylistUpdateResponse(upd)[0]?.result;
  if (r !== 'success' && r !== 'no_change') throw err('ERR_REFUSED', `the mediator did not register ${c.did} (${String(r)})`);
}

export const command: CliCommand = {
  usage: USAGE,
  async run(argv, io: CliIo) {
    const args = parseArgs(argv, FLAGS);
    if (args.positionals.length > 0) throw usageError(`unexpected argument "${args.positionals[0]}"`);
    if (args.strings('secrets').length === 0) throw usageError('--secrets FILE is required');
    const target = args.string('mediator');
    if (!target) throw usageError('--mediator URL is required');
    const { endpoint, did: invitedDid } = mediatorTarget(target);
    const mediator = args.string('mediator-did') ?? invitedDid;
    if (!mediator || !isDid(mediator)) throw usageError('--mediator-did DID is required (or pass the invitation URL as --mediator)');
    const loaded = await loadKeyMaterial(io, { secrets: args.strings('secrets'), dids: [] });
    const did = loaded.secretsFiles[0]?.dids[0];
    if (did === undefined) throw usageError('the secrets file holds no DID');
    const c: Client = { ctx: loaded.ctx, did, mediator, endpoint, format: (args.string('format') ?? 'json') as 'json' | 'compact', timeoutMs: intFlag('timeout', args.string('timeout') ?? '30000', 1, 600_000) };
    const limit = intFlag('limit', args.string('limit') ?? '100', 1, P.MAX_DELIVERY_LIMIT);

    await ensureMediation(c);
    let total = 0;
    for (;;) {
      const reply = await request(c, P.deliveryRequest(newMessageId(c.ctx.crypto), did, mediator, limit));
      if (reply.type === P.STATUS_TYPE) break;
      if (reply.type !== P.DELIVERY_TYPE) throw err('ERR_REFUSED', `delivery-request refused (${problem(reply) ?? reply.type})`);
      const delivered = P.parseDelivery(reply);
      for (const m of delivered.messages) {
        try {
          const u = await unpack(c.ctx, m.bytes);
          io.stdout.write(`${JSON.stringify({ id: m.id, message: u.message, meta: metaJson(u.meta) })}\n`);
        } catch (e) {
          // kept on our side as raw bytes (it is acknowledged): nothing picked up is lost
          const code = (e as { code?: string }).code ?? 'ERR_MALFORMED';
          io.stdout.write(`${JSON.stringify({ id: m.id, error: code, base64: toBase64url(m.bytes) })}\n`);
        }
      }
      total += delivered.messages.length;
      await request(c, P.messagesReceived(newMessageId(c.ctx.crypto), did, mediator, delivered.messages.map((m) => m.id)));
    }
    io.stderr.write(`${total} message(s) picked up\n`);
    return 0;
  },
};
