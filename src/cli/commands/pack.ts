/**
 * `didcomm-iot pack`: a plaintext DIDComm message (JSON, from standard input or `--in`) to an
 * envelope through the envelope façade (src/envelope/index.ts): standard DIDComm v2.1 JSON
 * (plain, JWS, JWE anoncrypt/authcrypt) or a DIDComm Compact frame (docs/compact.md), including
 * pairwise frames whose sequence numbers persist in a state file between invocations.
 */
import { didOf } from '../../did/document.js';
import { fromUtf8 } from '../../util/bytes.js';
import { parseJsonObject } from '../../util/json.js';
import { pack, type PackOptions } from '../../envelope/index.js';
import type { PackMode } from '../../envelope/types.js';
import type { Message } from '../../message/message.js';
import { PairwiseSessions } from '../../envelope/compact/pairwise-sessions.js';
import { CONTENT_ENCRYPTIONS, type ContentEncryption } from '../../envelope/jose/content.js';
import { MAX_HINT } from '../../envelope/compact/did-ref.js';
import { intFlag, parseArgs, usageError, type FlagSpecs } from '../args.js';
import { loadKeyMaterial, type LoadedSecretsFile } from '../context.js';
import { writeOutputFile } from '../files.js';
import { readMessageInput, resolvePath, type CliIo } from '../io.js';
import { FilePairwiseStateStore, stateFileFor } from '../pairwise-state.js';
import type { CliCommand } from '../command.js';

const MODES: readonly PackMode[] = ['plain', 'signed', 'anoncrypt', 'authcrypt', 'pairwise'];
/** Largest plaintext message accepted. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

const USAGE = `usage: didcomm-iot pack --mode plain|signed|anoncrypt|authcrypt|pairwise [options]

Reads a plaintext DIDComm message (JSON) and writes its envelope.

  --mode MODE          plain, signed, anoncrypt, authcrypt or pairwise (required)
  --format json|compact
                       json (default): DIDComm v2.1 JSON, written as text;
                       compact: a DIDComm Compact frame, written as raw bytes
  --to DID             recipient DID or DID URL; repeatable (default: the message "to")
  --from DID           sender DID or DID URL (default: the message "from")
  --sign               sign before encrypting (anoncrypt, authcrypt, pairwise)
  --enc ALG            JSON content encryption: A256CBC-HS512 (default), A256GCM or XC20P
                       (ECDH-1PU authcrypt requires A256CBC-HS512)
  --protect-sender     authcrypt: wrap in anoncrypt so the sender is hidden on the wire
  --hints N            compact: name DIDs and keys by N-byte hints (1-${MAX_HINT}); the receiver must
                       know them (unpack --peer / --dids)
  --secrets FILE       private keys: a "did new" file, a JSON array of private JWKs with "kid",
                       or {"secrets": [...]}; repeatable; must not be group/world accessible
  --dids FILE          DID documents: a JSON array, or an object mapping DID to document; repeatable
  --state FILE         pairwise sequence-number state, mode 0600
                       (default: <the secrets file holding --from>.pairwise-state)
  --in FILE            read the message from FILE (default: standard input)
  --out FILE           write the envelope to FILE (default: standard output)

pairwise requires --format compact, --from, exactly one --to and --secrets; its sequence
numbers persist in the state file, so no invocation ever reuses one.
`;

const FLAGS: FlagSpecs = {
  mode: { type: 'string', choices: MODES, value: 'MODE' },
  format: { type: 'string', choices: ['json', 'compact'], value: 'json|compact' },
  to: { type: 'string', multiple: true, value: 'DID' },
  from: { type: 'string', value: 'DID' },
  sign: { type: 'boolean' },
  enc: { type: 'string', choices: CONTENT_ENCRYPTIONS, value: 'ALG' },
  'protect-sender': { type: 'boolean' },
  hints: { type: 'string', value: 'N' },
  secrets: { type: 'string', multiple: true, value: 'FILE' },
  dids: { type: 'string', multiple: true, value: 'FILE' },
  state: { type: 'string', value: 'FILE' },
  in: { type: 'string', value: 'FILE' },
  out: { type: 'string', value: 'FILE' },
};

/** The state file of a pairwise sender: next to the secrets file that holds its keys. */
function pairwiseStatePath(files: LoadedSecretsFile[], from: string): string | undefined {
  const did = didOf(from);
  return (files.find((f) => f.dids.includes(did)) ?? files[0])?.path;
}

export const command: CliCommand = {
  usage: USAGE,
  async run(argv, io: CliIo) {
    const args = parseArgs(argv, FLAGS);
    if (args.positionals.length > 0) throw usageError(`unexpected argument "${args.positionals[0]}"`);
    const mode = args.string('mode') as PackMode | undefined;
    if (!mode) throw usageError('missing --mode');
    const format = (args.string('format') ?? 'json') as 'json' | 'compact';
    const to = args.strings('to');
    const from = args.string('from');
    const encrypting = mode === 'anoncrypt' || mode === 'authcrypt';
    if (args.bool('sign') && !encrypting && mode !== 'pairwise') throw usageError(`--sign applies to anoncrypt, authcrypt and pairwise (mode ${mode} ${mode === 'signed' ? 'signs already' : 'does not sign'})`);
    if (args.has('enc') && (format !== 'json' || !encrypting)) throw usageError('--enc applies to --format json with anoncrypt or authcrypt (compact uses ChaCha20-Poly1305)');
    if (args.bool('protect-sender') && mode !== 'authcrypt') throw usageError('--protect-sender applies to --mode authcrypt');
    const hintsValue = args.string('hints');
    if (hintsValue !== undefined && format !== 'compact') throw usageError('--hints applies to --format compact');
    const hints = hintsValue === undefined ? undefined : intFlag('hints', hintsValue, 1, MAX_HINT);
    if (mode === 'pairwise') {
      if (format !== 'compact') throw usageError('--mode pairwise requires --format compact');
      if (!from) throw usageError('--mode pairwise requires --from DID');
      if (to.length !== 1) throw usageError('--mode pairwise requires exactly one --to DID');
      if (args.strings('secrets').length === 0) throw usageError('--mode pairwise requires --secrets FILE with the sender\'s keys');
    } else if (args.has('state')) throw usageError('--state applies to --mode pairwise');

    const input = await readMessageInput(io, args.string('in'), MAX_MESSAGE_BYTES);
    const message = parseJsonObject(fromUtf8(input), 'message', { maxLength: MAX_MESSAGE_BYTES }) as unknown as Message;
    const loaded = await loadKeyMaterial(io, { secrets: args.strings('secrets'), dids: args.strings('dids') });

    const options: PackOptions = { mode, format };
    if (to.length) options.to = to;
    if (from) options.from = from;
    if (args.bool('sign')) options.sign = true;
    const enc = args.string('enc') as ContentEncryption | undefined;
    if (enc) options.enc = enc;
    if (args.bool('protect-sender')) options.protectSender = true;
    if (hints !== undefined) options.hints = { length: hints };

    let state: FilePairwiseStateStore | undefined;
    if (mode === 'pairwise') {
      const path = args.string('state') ?? stateFileFor(pairwiseStatePath(loaded.secretsFiles, from!)!);
      state = new FilePairwiseStateStore(resolvePath(io, path));
      // reserveBlock 1: every sequence number is persisted before it is used, none is skipped.
      options.pairwise = new PairwiseSessions(loaded.ctx, { store: state, reserveBlock: 1 });
    }
    let bytes: Uint8Array;
    try {
      bytes = (await pack(loaded.ctx, message, options)).bytes;
    } finally {
      await state?.close();
    }
    const output = format === 'json' ? `${fromUtf8(bytes)}\n` : bytes;
    const out = args.string('out');
    if (out !== undefined && out !== '-') await writeOutputFile(io, out, output);
    else io.stdout.write(output);
    return 0;
  },
};
