/** Helpers for the CLI tests: in-process runs with captured streams, temp dirs, key files. */
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/index.js';
import { loadVector } from '../helpers/spec-vectors.js';

export interface RunResult {
  code: number;
  stdout: Uint8Array;
  out: string;
  err: string;
  /** Standard error split into lines (without the trailing empty one). */
  errLines: string[];
}

function collector(): { write(c: Uint8Array | string): void; bytes(): Uint8Array } {
  const chunks: Uint8Array[] = [];
  return {
    write(c) {
      chunks.push(typeof c === 'string' ? new TextEncoder().encode(c) : c.slice());
    },
    bytes() {
      const n = chunks.reduce((s, c) => s + c.length, 0);
      const out = new Uint8Array(n);
      let o = 0;
      for (const c of chunks) {
        out.set(c, o);
        o += c.length;
      }
      return out;
    },
  };
}

export async function run(argv: string[], o: { stdin?: Uint8Array | string; cwd?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
  const stdout = collector();
  const stderr = collector();
  const input = o.stdin === undefined ? [] : [typeof o.stdin === 'string' ? new TextEncoder().encode(o.stdin) : o.stdin];
  const code = await runCli(argv, { stdin: input, stdout, stderr, env: o.env ?? {}, cwd: o.cwd ?? process.cwd() });
  const out = stdout.bytes();
  const err = new TextDecoder().decode(stderr.bytes());
  return { code, stdout: out, out: new TextDecoder().decode(out), err, errLines: err.split('\n').filter((l, i, a) => !(l === '' && i === a.length - 1)) };
}

export function tempDir(prefix = 'didcomm-cli-'): { dir: string; path(name: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes a JSON key file with the given mode (0600 by default, as the CLI requires). */
export function writeJsonFile(path: string, value: unknown, mode = 0o600): string {
  writeFileSync(path, JSON.stringify(value, null, 2), { mode });
  chmodSync(path, mode);
  return path;
}

/** Bob's spec secrets (Appendix A.2, verbatim: "kid " typo included) and the spec DID documents. */
export function specKeyFiles(dir: string): { bobSecrets: string; aliceSecrets: string; dids: string } {
  const keys = loadVector('keys.json');
  return {
    bobSecrets: writeJsonFile(join(dir, 'bob-secrets.json'), keys.recipient_secrets),
    aliceSecrets: writeJsonFile(join(dir, 'alice-secrets.json'), { secrets: keys.sender_secrets }),
    dids: writeJsonFile(join(dir, 'spec-dids.json'), keys.did_docs, 0o644),
  };
}

export const errorLineRe = /^error: (ERR_[A-Z_]+): \S.*$/u;

/** The code of a one-line error report, or undefined. */
export function errorCode(r: RunResult): string | undefined {
  return errorLineRe.exec(r.errLines[0] ?? '')?.[1];
}
