/**
 * `didcomm-iot unpack`: an envelope (standard DIDComm v2.1 JSON or a DIDComm Compact frame, told
 * apart by the first byte) to one JSON object `{message, meta}` on standard output. `meta` always
 * has format, encrypted, authenticated, nonRepudiation, anonymousSender, senderKid, recipientKid,
 * signerKid, alg, enc (absent values are null), plus signAlg, layers and fromPrior. Pairwise frames
 * keep their replay window in the state file next to the first secrets file.
 */
import { unpack, type UnpackOptions } from '../../envelope/index.js';
import type { UnpackMeta } from '../../envelope/types.js';
import { PairwiseSessions } from '../../envelope/compact/pairwise-sessions.js';
import { parseArgs, usageError, type FlagSpecs } from '../args.js';
import { loadKeyMaterial } from '../context.js';
import { readMessageInput, resolvePath, type CliIo } from '../io.js';
import { FilePairwiseStateStore, stateFileFor } from '../pairwise-state.js';
import type { CliCommand } from '../command.js';

/** Largest envelope accepted (the façade's default limit). */
export const MAX_ENVELOPE_BYTES = 1024 * 1024;

const USAGE = `usage: didcomm-iot unpack [--secrets FILE]... [--dids FILE]... [--peer DID]... [--in FILE]

Reads an envelope (DIDComm v2.1 JSON or a DIDComm Compact frame; the format is detected) and
prints {"message": {...}, "meta": {...}} as one JSON object.

  --secrets FILE       private keys: a "did new" file, a JSON array of private JWKs with "kid",
                       or {"secrets": [...]}; repeatable; must not be group/world accessible
  --dids FILE          DID documents: a JSON array, or an object mapping DID to document; repeatable
  --peer DID           a DID this receiver knows (did:key / did:peer resolve offline); needed for
                       senders named by short hints and for pairwise frames; repeatable
  --state FILE         pairwise replay state (default: <first secrets file>.pairwise-state)
  --in FILE            read the envelope from FILE (default: standard input)
  --pretty             indent the JSON output

meta: format, encrypted, authenticated, nonRepudiation, anonymousSender, senderKid,
recipientKid, signerKid, alg, enc, signAlg, layers, fromPrior (null when absent).
`;

const FLAGS: FlagSpecs = {
  secrets: { type: 'string', multiple: true, value: 'FILE' },
  dids: { type: 'string', multiple: true, value: 'FILE' },
  peer: { type: 'string', multiple: true, value: 'DID' },
  state: { type: 'string', value: 'FILE' },
  in: { type: 'string', value: 'FILE' },
  pretty: { type: 'boolean' },
};

/** The printed meta: every documented field present, undefined as null. */
export function metaJson(meta: UnpackMeta): Record<string, unknown> {
  const n = <T>(v: T | undefined): T | null => (v === undefined ? null : v);
  return {
    format: meta.format,
    encrypted: meta.encrypted,
    authenticated: meta.authenticated,
    nonRepudiation: meta.nonRepudiation,
    anonymousSender: meta.anonymousSender,
    senderKid: n(meta.senderKid),
    recipientKid: n(meta.recipientKid),
    signerKid: n(meta.signerKid),
    alg: n(meta.alg),
    enc: n(meta.enc),
    signAlg: n(meta.signAlg),
    layers: meta.layers,
    fromPrior: n(meta.fromPrior),
  };
}

export const command: CliCommand = {
  usage: USAGE,
  async run(argv, io: CliIo) {
    const args = parseArgs(argv, FLAGS);
    if (args.positionals.length > 0) throw usageError(`unexpected argument "${args.positionals[0]}"`);
    const secretsFiles = args.strings('secrets');
    const input = await readMessageInput(io, args.string('in'), MAX_ENVELOPE_BYTES);
    const loaded = await loadKeyMaterial(io, { secrets: secretsFiles, dids: args.strings('dids'), peers: args.strings('peer') });

    const options: UnpackOptions = { maxBytes: MAX_ENVELOPE_BYTES };
    let state: FilePairwiseStateStore | undefined;
    const statePath = args.string('state') ?? (secretsFiles[0] === undefined ? undefined : stateFileFor(secretsFiles[0]));
    if (statePath !== undefined) {
      // The state file is opened (and locked) only if a pairwise frame is actually seen.
      state = new FilePairwiseStateStore(resolvePath(io, statePath));
      options.pairwise = new PairwiseSessions(loaded.ctx, { store: state });
    }
    let result;
    try {
      result = await unpack(loaded.ctx, input, options);
    } finally {
      await state?.close();
    }
    const out = { message: result.message, meta: metaJson(result.meta) };
    io.stdout.write(`${JSON.stringify(out, null, args.bool('pretty') ? 2 : undefined)}\n`);
    return 0;
  },
};
