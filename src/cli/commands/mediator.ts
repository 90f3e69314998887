/**
 * `didcomm-iot mediator`: runs the mediator (docs/mediator.md) — HTTP POST, WebSocket, MQTT and
 * radio listeners on the store of your choice — prints its DID and an out-of-band invitation
 * (`https://didcomm.org/out-of-band/2.0/invitation`, goal code `mediate`) as a `?_oob=` URL and as
 * JSON, and serves until SIGINT/SIGTERM, then shuts down cleanly (listeners closed, stores
 * flushed). The secrets file is created (mode 0600) in the data dir on first run.
 */
import { resolve } from 'node:path';
import { err } from '../../errors.js';
import { parseMediatorConfig, type MediatorConfig } from '../../mediator/config.js';
import { startMediatorServer, type MediatorServer } from '../../mediator/node-server.js';
import { intFlag, parseArgs, usageError, type FlagSpecs } from '../args.js';
import { readPublicJson } from '../files.js';
import { resolvePath, type CliIo } from '../io.js';
import type { CliCommand } from '../command.js';

const USAGE = `usage: didcomm-iot mediator [--config FILE] [--http PORT] [--ws PORT] [--mqtt URL]
                            [--store sqlite:PATH|postgres://…|redis://…] [--secrets FILE]

Runs a DIDComm mediator: routing 2.0 (forward), coordinate-mediation 2.0, message pickup 3.0 (with
live mode), trust ping, discover features; standard JSON and DIDComm Compact.

  --config FILE        JSON configuration (see docs/mediator.md); flags override it
  --data-dir DIR       secrets file and embedded stores (default ./mediator-data)
  --http PORT          HTTP POST listener (0 = any free port; default 8080 unless --ws/--mqtt only)
  --host HOST          interface for the HTTP and WebSocket listeners (default 0.0.0.0)
  --ws PORT            WebSocket listener
  --mqtt URL           MQTT broker: subscribe the mediator's inbox
  --share-group NAME   MQTT v5 shared subscription group (several mediator processes)
  --store URL          mailbox store: sqlite:PATH (default: DATA_DIR/mailbox.db), postgres://…,
                       redis://…, or memory: (not durable)
  --secrets FILE       the mediator's secrets file (default DATA_DIR/mediator-secrets.json; created
                       with mode 0600 on first run)
  --public-url URL     the endpoint others reach (invitation, the DID's service endpoint)

Prints the mediator DID, its endpoints and the invitation; serves until SIGINT or SIGTERM.
`;

const FLAGS: FlagSpecs = {
  config: { type: 'string', value: 'FILE' },
  'data-dir': { type: 'string', value: 'DIR' },
  http: { type: 'string', value: 'PORT' },
  host: { type: 'string', value: 'HOST' },
  ws: { type: 'string', value: 'PORT' },
  mqtt: { type: 'string', value: 'URL' },
  'share-group': { type: 'string', value: 'NAME' },
  store: { type: 'string', value: 'URL' },
  secrets: { type: 'string', value: 'FILE' },
  'public-url': { type: 'string', value: 'URL' },
};

/** The configuration from `--config` and the flags (flags win). */
export async function mediatorConfig(argv: readonly string[], io: CliIo): Promise<MediatorConfig> {
  const args = parseArgs(argv, FLAGS);
  if (args.positionals.length > 0) throw usageError(`unexpected argument "${args.positionals[0]}"`);
  const file = args.string('config');
  const cfg = parseMediatorConfig(file === undefined ? undefined : await readPublicJson(io, file, 'config file'), resolvePath(io, args.string('data-dir') ?? 'mediator-data'));
  if (args.has('data-dir')) cfg.dataDir = resolvePath(io, args.string('data-dir')!);
  else cfg.dataDir = resolve(io.cwd, cfg.dataDir);
  const host = args.string('host');
  const http = args.string('http');
  if (http !== undefined) cfg.http = { ...cfg.http, port: intFlag('http', http, 0, 65535) };
  const ws = args.string('ws');
  if (ws !== undefined) cfg.ws = { ...cfg.ws, port: intFlag('ws', ws, 0, 65535) };
  if (host !== undefined) {
    if (cfg.http) cfg.http.host = host;
    if (cfg.ws) cfg.ws.host = host;
  }
  const mqtt = args.string('mqtt');
  if (mqtt !== undefined) cfg.mqtt = { ...cfg.mqtt, url: mqtt };
  const group = args.string('share-group');
  if (group !== undefined) {
    if (!cfg.mqtt) throw usageError('--share-group needs --mqtt');
    cfg.mqtt.shareGroup = group;
  }
  const store = args.string('store');
  if (store !== undefined) cfg.store = store;
  const secrets = args.string('secrets');
  if (secrets !== undefined) cfg.secrets = resolvePath(io, secrets);
  else if (cfg.secrets !== undefined) cfg.secrets = resolvePath(io, cfg.secrets);
  const publicUrl = args.string('public-url');
  if (publicUrl !== undefined) cfg.publicUrl = publicUrl;
  if (!cfg.http && !cfg.ws && !cfg.mqtt && cfg.radios.length === 0) cfg.http = { port: 8080 };
  if (cfg.store?.startsWith('sqlite:') && !cfg.store.startsWith('sqlite::memory:')) cfg.store = `sqlite:${resolvePath(io, cfg.store.slice('sqlite:'.length))}`;
  return cfg;
}

/** What `mediator` prints once it serves. */
export function banner(s: MediatorServer): string {
  const lines = [`mediator DID: ${s.did}`];
  if (s.httpUrl) lines.push(`HTTP endpoint: ${s.httpUrl}`);
  if (s.wsUrl) lines.push(`WebSocket endpoint: ${s.wsUrl}`);
  if (s.mqtt) lines.push(`MQTT inbox: ${s.mqtt.inbox}`);
  lines.push(`invitation URL: ${s.invitation.url}`, `invitation JSON: ${s.invitation.json}`, '');
  return lines.join('\n');
}

/** Runs the mediator until `signal` aborts; resolves 0 after a clean shutdown. */
export async function serveMediator(argv: readonly string[], io: CliIo, signal: AbortSignal): Promise<number> {
  const cfg = await mediatorConfig(argv, io);
  const server = await startMediatorServer(cfg, { onError: (e) => io.stderr.write(`mediator: ${e instanceof Error ? e.message : String(e)}\n`) });
  io.stdout.write(banner(server));
  if (!signal.aborted) await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
  await server.close();
  io.stdout.write('mediator stopped\n');
  return 0;
}

export const command: CliCommand = {
  usage: USAGE,
  async run(argv, io) {
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      return await serveMediator(argv, io, stop.signal);
    } catch (e) {
      throw e instanceof Error && !('code' in e) ? err('ERR_TRANSPORT', `mediator: ${e.message}`, { cause: e }) : e;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
