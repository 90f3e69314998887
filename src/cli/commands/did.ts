/**
 * `didcomm-iot did new`: creates a device's static DID at provisioning time (DESIGN §1) — a did:key
 * (Ed25519, with its X25519 twin for key agreement) or a did:peer:2 with DIDComm service endpoints
 * — and writes the secrets file `{did, didDocument, secrets: [private JWK with kid...]}`, mode 0600
 * from creation, never overwriting an existing file unless `--force`.
 */
import { createDid, type CreateDidOptions } from '../../did/create.js';
import { parseArgs, usageError, type FlagSpecs } from '../args.js';
import { writeSecretsFile } from '../files.js';
import type { CliIo } from '../io.js';
import type { CliCommand } from '../command.js';

const USAGE = `usage: didcomm-iot did new [--method key|peer] [--service URI]... [--out FILE [--force]]

Creates a static DID and its private keys.

  --method key|peer   did:key (default; one Ed25519 key, X25519 derived from it) or did:peer:2
                      (separate Ed25519 and X25519 keys, may carry service endpoints)
  --key-type TYPE     did:key key type: Ed25519 (default), P-256 or P-384
  --service URI       a DIDComm service endpoint (URI, or a mediator DID); repeatable; implies
                      --method peer
  --out FILE          write the secrets file to FILE (created with mode 0600) and print only the
                      DID on standard output; without --out the secrets file JSON is printed
  --force             replace FILE if it exists (atomically; still mode 0600)

The secrets file is {"did": ..., "didDocument": {...}, "secrets": [private JWK with "kid", ...]}
and is what --secrets takes in pack and unpack.
`;

const FLAGS: FlagSpecs = {
  method: { type: 'string', choices: ['key', 'peer'], value: 'key|peer' },
  'key-type': { type: 'string', choices: ['Ed25519', 'P-256', 'P-384'], value: 'TYPE' },
  service: { type: 'string', multiple: true, value: 'URI' },
  out: { type: 'string', value: 'FILE' },
  force: { type: 'boolean' },
};

/** A URI with a scheme (http(s), ws(s), mqtt, a DID...) and no whitespace. */
const URI_RE = /^[a-z][a-z0-9+.-]*:[^\s]+$/iu;

async function didNew(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, FLAGS);
  if (args.positionals.length > 0) throw usageError(`unexpected argument "${args.positionals[0]}"`);
  const services = args.strings('service');
  for (const s of services) if (!URI_RE.test(s) || s.length > 2048) throw usageError(`--service must be a URI or a DID (got "${s.slice(0, 80)}")`);
  const explicitMethod = args.string('method') as CreateDidOptions['method'] | undefined;
  if (services.length > 0 && explicitMethod === 'key') throw usageError('--service needs did:peer (did:key cannot carry a service endpoint); drop --method key');
  const method = explicitMethod ?? (services.length > 0 ? 'peer' : 'key');
  const keyType = args.string('key-type') as CreateDidOptions['keyType'] | undefined;
  if (keyType !== undefined && method !== 'key') throw usageError('--key-type applies to did:key only');
  if (args.bool('force') && !args.has('out')) throw usageError('--force needs --out FILE');

  const file = createDid({ method, ...(keyType ? { keyType } : {}), ...(services.length ? { services } : {}) });
  const text = `${JSON.stringify(file, null, 2)}\n`;
  const out = args.string('out');
  if (out === undefined) {
    io.stdout.write(text);
    return 0;
  }
  await writeSecretsFile(io, out, text, args.bool('force'));
  io.stdout.write(`${file.did}\n`);
  return 0;
}

export const command: CliCommand = {
  usage: USAGE,
  async run(argv, io) {
    const sub = argv[0];
    if (sub === undefined) throw usageError('missing subcommand (did new)');
    if (sub === 'new') return didNew(argv.slice(1), io);
    throw usageError(`unknown subcommand "did ${sub}"`);
  },
};
