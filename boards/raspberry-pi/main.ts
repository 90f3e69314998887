/**
 * Entry point of the Raspberry Pi bundle: `node dist/raspberry-pi/app.js PROFILE.json`.
 * The profile is the board profile written by `didcomm-iot provision --board raspberry-pi`
 * (secrets referenced by path, read with the same 0600 check as the CLI). The Firmata board is
 * opened on a serialport 13 port (`io.kind: "firmata"`), or an io plugin module is loaded
 * (`io.kind: "plugin"`, e.g. linux-io on a Pi 5).
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { err, isDidcommError } from '../../src/errors.js';
import { startPiApp, type PiProfile } from './app.js';

interface ProfileFile extends Omit<PiProfile, 'secrets'> {
  /** Path of the secrets file, relative to the profile. */
  secretsFile: string;
  io: { kind: 'firmata'; path: string; baudRate?: number } | { kind: 'plugin'; module: string; options?: Record<string, unknown> };
}

function readSecrets(path: string): PiProfile['secrets'] {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) throw err('ERR_NOT_AUTHORIZED', `${path} is readable by others (mode ${mode.toString(8)}); run: chmod 600 ${path}`);
  return JSON.parse(readFileSync(path, 'utf8'));
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw err('ERR_USAGE', 'usage: node app.js PROFILE.json');
  const p = JSON.parse(readFileSync(file, 'utf8')) as ProfileFile;
  const secrets = readSecrets(resolve(dirname(file), p.secretsFile));
  let board: { io?: unknown; port?: unknown };
  if (p.io.kind === 'firmata') {
    const { SerialPort } = await import('serialport');
    board = { port: new SerialPort({ path: p.io.path, baudRate: p.io.baudRate ?? 57600 }) };
  } else {
    const mod = (await import(p.io.module)) as { default: new (o?: unknown) => unknown };
    board = { io: new mod.default(p.io.options) };
  }
  const app = await startPiApp({ ...p, secrets }, { board });
  console.log(`didcomm-iot raspberry-pi: ${secrets.did} reporting to ${p.controller}`);
  const stop = () => {
    app.stop().finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  console.error(`error: ${isDidcommError(e) ? `${e.code}: ${e.message}` : `ERR_ARGUMENT: ${String(e)}`}`);
  process.exit(1);
});
