/**
 * `didcomm-iot provision`: gives a new device its static DID and everything it needs to talk
 * offline (DESIGN §1), registering nothing online. Espruino boards get their pairwise contexts
 * with the mediator and the controller (derived here from static-static X25519, the device never
 * holds an asymmetric key) in `didcomm.json`, plus the board bundle and the exact `espruino`
 * upload command; a Raspberry Pi gets its secrets file and a board profile for the Pi app.
 * Secrets are written 0600 and never printed.
 */
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { err } from '../../errors.js';
import { createDid } from '../../did/create.js';
import { isDid } from '../../did/document.js';
import { OfflineResolver } from '../../did/resolver.js';
import { toHex } from '../../util/bytes.js';
import { defaultCrypto } from '../../crypto/default.js';
import { parseArgs, usageError, type FlagSpecs } from '../args.js';
import { atomicWriteFile, writeSecretsFile } from '../files.js';
import { resolvePath, type CliIo } from '../io.js';
import type { CliCommand } from '../command.js';

const ESPRUINO = ['puck-js', 'pico', 'esp32', 'generic'] as const;
const ESPRUINO_BOARD_NAMES: Record<string, string> = { 'puck-js': 'PUCKJS', pico: 'PICO_R1_3', esp32: 'ESP32', generic: 'MDBT42Q' };

const USAGE = `usage: didcomm-iot provision --board puck-js|pico|esp32|generic|raspberry-pi --mediator DID
                              --controller DID --out DIR [options]

Creates a device's static DID and writes what the device needs, offline:
  Espruino boards: DIR/device.secrets.json (0600, keep it off the device), DIR/didcomm.json
  (0600: the pairwise contexts with the mediator and the controller), DIR/<board>.js (the bundle)
  and prints the espruino command that uploads both; Raspberry Pi: DIR/device.secrets.json (0600)
  and DIR/profile.json for the Pi app (node app.js profile.json).

  --board BOARD        puck-js, pico, esp32, generic (Espruino) or raspberry-pi
  --mediator DID       the mediator's DID
  --controller DID     the controller's DID (may command the device)
  --transport KIND     lora:rylr (default), ble, or mqtt (raspberry-pi only)
  --address N          LoRa address of the device (1..65534; default derived from its DID)
  --gateway N          LoRa address of the mediator's gateway (default 1)
  --via direct|mediator  reach the controller directly or through the mediator (default mediator)
  --mqtt-url URL       raspberry-pi with --transport mqtt: the broker
  --interval MS        telemetry period (default 300000)
  --out DIR            where to write the files (created 0700 if missing)
  --force              overwrite existing files
  --upload PORT        Espruino: run the upload command now (needs the espruino CLI on PATH)
`;

const FLAGS: FlagSpecs = {
  board: { type: 'string', choices: [...ESPRUINO, 'raspberry-pi'], value: 'BOARD' },
  mediator: { type: 'string', value: 'DID' },
  controller: { type: 'string', value: 'DID' },
  transport: { type: 'string', choices: ['lora:rylr', 'ble', 'mqtt'], value: 'KIND' },
  address: { type: 'string', value: 'N' },
  gateway: { type: 'string', value: 'N' },
  via: { type: 'string', choices: ['direct', 'mediator'], value: 'direct|mediator' },
  'mqtt-url': { type: 'string', value: 'URL' },
  interval: { type: 'string', value: 'MS' },
  out: { type: 'string', value: 'DIR' },
  force: { type: 'boolean' },
  upload: { type: 'string', value: 'PORT' },
};

function intFlag(v: string | undefined, lo: number, hi: number, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/u.test(v) || Number(v) < lo || Number(v) > hi) throw usageError(`--${name} must be an integer in ${lo}..${hi}`);
  return Number(v);
}

/** The package root (where dist/ lives), from this module's location in src/ or dist/. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'didcomm-iot') return dir;
    dir = dirname(dir);
  }
  throw err('ERR_STORE', 'cannot find the didcomm-iot package root');
}

/** Where the built bundles are: dist/<kind>, or $DIDCOMM_IOT_BUNDLES/<kind> (development builds). */
function bundleDir(io: CliIo, kind: 'espruino' | 'raspberry-pi'): string {
  const override = io.env.DIDCOMM_IOT_BUNDLES;
  return override ? join(override, kind) : join(packageRoot(), 'dist', kind);
}

async function ensureDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  if (!(await stat(path)).isDirectory()) throw err('ERR_ARGUMENT', `${path} is not a directory`);
}

async function refuseExisting(path: string, force: boolean): Promise<void> {
  if (!force && existsSync(path)) throw err('ERR_REFUSED', `${path} exists (use --force to overwrite)`);
}

function quote(s: string): string {
  return /^[\w@%+=:,./-]+$/u.test(s) ? s : `'${s.replace(/'/gu, "'\\''")}'`;
}

async function provision(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, FLAGS);
  if (args.positionals.length) throw usageError(`unexpected argument "${args.positionals[0]}"`);
  const board = args.string('board');
  const mediator = args.string('mediator');
  const controller = args.string('controller');
  const outArg = args.string('out');
  if (!board || !mediator || !controller || !outArg) throw usageError('--board, --mediator, --controller and --out are required');
  if (!isDid(mediator) || !isDid(controller)) throw usageError('--mediator and --controller must be DIDs');
  const transport = args.string('transport') ?? 'lora:rylr';
  const force = args.bool('force');
  const out = resolvePath(io, outArg);
  const interval = intFlag(args.string('interval'), 0, 86_400_000, 'interval', 300_000);
  const via = (args.string('via') ?? 'mediator') as 'direct' | 'mediator';
  const resolver = new OfflineResolver();
  for (const d of [mediator, controller]) resolver.document(d); // fails now if it can't resolve offline

  const device = createDid();
  const address = intFlag(args.string('address'), 1, 65534, 'address', 2 + (parseInt(toHex(defaultCrypto.sha256(new TextEncoder().encode(device.did))).slice(0, 4), 16) % 65000));
  const gateway = intFlag(args.string('gateway'), 0, 65535, 'gateway', 1);
  await ensureDir(out);
  const secretsPath = join(out, 'device.secrets.json');
  await writeSecretsFile(io, secretsPath, `${JSON.stringify(device, null, 2)}\n`, force);
  const lines = [`device DID: ${device.did}`, `wrote ${secretsPath} (0600; keep it safe, it is the device's identity)`];

  if (board === 'raspberry-pi') {
    if (transport === 'ble') throw usageError('raspberry-pi: use --transport lora:rylr or mqtt');
    const profilePath = join(out, 'profile.json');
    await refuseExisting(profilePath, force);
    const link =
      transport === 'mqtt'
        ? { kind: 'mqtt', url: args.string('mqtt-url') ?? 'mqtt://127.0.0.1:1883', peers: { [mediator]: null } }
        : { kind: 'lora', modem: 'rylr', path: '/dev/serial0', baudRate: 115200, address, peers: { [mediator]: String(gateway) } };
    const profile = {
      board,
      secretsFile: 'device.secrets.json',
      store: 'sqlite:./device-state.db',
      controller,
      mediator,
      controllers: { [controller]: ['*'] },
      telemetry: { intervalMs: interval, signing: 'signed' },
      links: [link],
      io: { kind: 'firmata', path: '/dev/ttyACM0' },
      hardware: {
        sensors: [{ type: 'thermometer', controller: 'LM35', pin: 'A0' }],
        actuators: [
          { type: 'relay', name: 'relay1', pin: 8 },
          { type: 'led', name: 'led', pin: 13 },
        ],
      },
    };
    await atomicWriteFile(profilePath, `${JSON.stringify(profile, null, 2)}\n`, 0o644);
    lines.push(`wrote ${profilePath}`);
    const app = join(bundleDir(io, 'raspberry-pi'), 'app.js');
    if (existsSync(app)) {
      await copyFile(app, join(out, 'app.js'));
      lines.push(`wrote ${join(out, 'app.js')}`, `run on the Pi: node ${join(out, 'app.js')} ${profilePath}`);
    } else lines.push(`run on the Pi: node dist/raspberry-pi/app.js ${profilePath} (npm run build first)`);
    io.stdout.write(lines.join('\n') + '\n');
    return 0;
  }

  if (transport === 'mqtt') throw usageError('Espruino boards use --transport lora:rylr or ble');
  const { deviceConfig } = await import('../../provision/espruino.js');
  const config = deviceConfig({
    deviceSecrets: device,
    board,
    peers: [
      { role: 'mediator', did: mediator },
      { role: 'controller', did: controller, via },
    ],
    transport: transport === 'ble' ? { kind: 'ble-nus' } : { kind: 'lora-rylr', address, gateway },
    telemetry: { intervalMs: interval },
    resolver,
  });
  const configPath = join(out, 'didcomm.json');
  await refuseExisting(configPath, force);
  await atomicWriteFile(configPath, JSON.stringify(config), 0o600);
  lines.push(`wrote ${configPath} (0600: pairwise keys)`);
  const bundle = join(bundleDir(io, 'espruino'), `${board}.js`);
  if (!existsSync(bundle)) throw err('ERR_STORE', `${bundle} is missing: run npm run build first`);
  const bundleOut = join(out, `${board}.js`);
  await copyFile(bundle, bundleOut);
  lines.push(`wrote ${bundleOut}`);
  const port = args.string('upload');
  const upload = ['espruino', '-p', port ?? '<PORT>', '--board', ESPRUINO_BOARD_NAMES[board]!, '--config', 'SAVE_ON_SEND=1', '--storage', `didcomm.json:${configPath}`, bundleOut];
  lines.push(`upload with: ${upload.map(quote).join(' ')}`);
  io.stdout.write(lines.join('\n') + '\n');
  if (port !== undefined) {
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(upload[0]!, upload.slice(1), { stdio: 'inherit' });
      child.on('error', (e) => reject(err('ERR_UNSUPPORTED', `cannot run the espruino CLI (npm i -g espruino): ${e.message}`, { cause: e })));
      child.on('exit', (c) => resolve(c ?? 1));
    });
    if (code !== 0) throw err('ERR_TRANSPORT', `espruino upload exited with ${code}`);
  }
  return 0;
}

export const command: CliCommand = {
  usage: USAGE,
  run: (argv, io) => provision(argv, io),
};
