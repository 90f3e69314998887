/**
 * `didcomm-iot sim` — the main job (`npm start`): a field of devices on a simulated LoRa channel
 * with a mediator, a controller, sensors, Espruino endpoints, an actuator and an offline field
 * device, on embedded defaults. Prints a live view, then a summary; `--json` prints only the
 * summary as one JSON object. Exit 0 when every reading was delivered exactly once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, usageError, type FlagSpecs } from '../args.js';
import type { CliIo } from '../io.js';
import type { CliCommand } from '../command.js';

const USAGE = `usage: didcomm-iot sim [--devices N] [--espruino N] [--loss P] [--sf SF] [--duration S]
                        [--seed N] [--speed X] [--interval MS] [--json] [--keep] [--bundles DIR]

Runs a field of devices on a simulated LoRa channel (airtime, EU868 1 % duty cycle, frame loss)
with an embedded mediator (SQLite in a temp dir), an embedded MQTT broker and a controller.

  --devices N     Node sensors (full agents, signed telemetry) (default 4)
  --espruino N    Espruino endpoints: the real puck-js bundle under Node shims (default 2)
  --loss P        radio frame loss probability (default 0.1)
  --sf SF         LoRa spreading factor 7..12 (default 7)
  --duration S    wall-clock seconds of readings before the field drains (default 30)
  --seed N        seed of the loss pattern and the schedules (default 1)
  --speed X       simulated seconds per wall second (default 120)
  --interval MS   simulated ms between readings of one device (default: fits the duty cycle)
  --json          print only the summary, as one JSON object
  --keep          keep the mediator's data directory
  --bundles DIR   the built Espruino bundles (default: dist/espruino of the package)

Exit status 0 when every reading sent was delivered exactly once and the duty cycle was kept; 1 otherwise.
`;

const FLAGS: FlagSpecs = {
  devices: { type: 'string', value: 'N' },
  espruino: { type: 'string', value: 'N' },
  loss: { type: 'string', value: 'P' },
  sf: { type: 'string', value: 'SF' },
  duration: { type: 'string', value: 'S' },
  seed: { type: 'string', value: 'N' },
  speed: { type: 'string', value: 'X' },
  interval: { type: 'string', value: 'MS' },
  json: { type: 'boolean' },
  keep: { type: 'boolean' },
  bundles: { type: 'string', value: 'DIR' },
};

/** The installed package's directory (where dist/espruino lives), found upward from this module. */
function packageRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; ) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'didcomm-iot') return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

function num(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw usageError(`--${name} must be a number`);
  return n;
}

async function sim(argv: readonly string[], io: CliIo): Promise<number> {
  const a = parseArgs(argv, FLAGS);
  if (a.positionals.length) throw usageError(`unexpected argument "${a.positionals[0]}"`);
  const opts: Record<string, unknown> = { json: a.bool('json'), keep: a.bool('keep') };
  for (const k of ['devices', 'espruino', 'loss', 'sf', 'duration', 'seed', 'speed'] as const) {
    const v = num(a.string(k), k);
    if (v !== undefined) opts[k] = v;
  }
  const interval = num(a.string('interval'), 'interval');
  if (interval !== undefined) opts.intervalMs = interval;
  const bundles = a.string('bundles');
  if (bundles !== undefined) opts.bundles = resolve(io.cwd, bundles);
  const { runSim } = await import('../../../scripts/sim/index.js');
  const out = io.stdout as unknown as NodeJS.WriteStream;
  const s = await runSim(opts, out, packageRoot());
  const ok = s.lost === 0 && s.duplicates === 0 && s.dutyCycleViolations === 0;
  if (opts.json) io.stdout.write(`${JSON.stringify(s)}\n`);
  else {
    io.stdout.write(
      [
        '',
        `summary: ${s.delivered}/${s.sent} readings delivered, ${s.duplicates} duplicates, ${s.lost} lost`,
        `         commands executed ${s.commandsExecuted} of ${s.commandsSent} sent, intruder commands refused ${s.commandsRefused}`,
        `         on air ${s.bytesOnAir} B in ${s.frames} frames, airtime ${(s.airtimeMs / 1000).toFixed(1)} s, duty-cycle violations ${s.dutyCycleViolations}`,
        `         one reading is ${s.bytesPerReading.compact} B compact vs ${s.bytesPerReading.json} B as DIDComm JSON: ${s.readingBytesSaved} B saved on ${s.sent} readings`,
        `         field device offline ${s.fieldDevice.offlineSeconds} s simulated, synced: ${s.fieldDevice.synced}; ${s.simulatedSeconds} s simulated in ${s.wallSeconds} s`,
        '',
      ].join('\n'),
    );
  }
  return ok ? 0 : 1;
}

export const command: CliCommand = { usage: USAGE, run: (argv, io) => sim(argv, io) };
