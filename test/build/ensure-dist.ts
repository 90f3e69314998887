/**
 * Makes sure dist/ holds a Node build of the current sources before a test runs the built binary.
 * Stale means: an entry file is missing, or a source (src/, transports/, scripts/, boards/, rollup.config.mjs,
 * package.json, tsconfig.json) is newer than the oldest entry file. Then it runs the Node-only
 * build (`rollup -c --environment DIDCOMM_BUILD:node`, no board bundles) once per test run: test
 * files run in parallel worker processes, so a lock directory serializes them and a marker with
 * the vitest main process id stops a second rebuild in the same run.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY_FILES = ['dist/index.js', 'dist/cli.js', 'dist/envelope.js', 'dist/types/src/index.d.ts'];
const CACHE = join(ROOT, 'node_modules', '.cache', 'didcomm-iot-build');
const LOCK = join(CACHE, 'lock');
const MARKER = join(CACHE, 'built-for-run');

function newestSource(): number {
  let newest = 0;
  const walk = (dir: string): void => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (/\.(ts|mjs|js|json)$/u.test(d.name)) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const dir of ['src', 'transports', 'scripts', 'boards']) walk(join(ROOT, dir));
  for (const f of ['rollup.config.mjs', 'package.json', 'tsconfig.json']) newest = Math.max(newest, statSync(join(ROOT, f)).mtimeMs);
  return newest;
}

export function distIsStale(): boolean {
  let built = Infinity;
  for (const f of ENTRY_FILES) {
    const p = join(ROOT, f);
    if (!existsSync(p)) return true;
    built = Math.min(built, statSync(p).mtimeMs);
  }
  return newestSource() > built;
}

function builtThisRun(): boolean {
  try {
    return readFileSync(MARKER, 'utf8') === String(process.ppid);
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

function tryLock(): boolean {
  mkdirSync(CACHE, { recursive: true });
  try {
    mkdirSync(LOCK);
    writeFileSync(join(LOCK, 'pid'), String(process.pid));
    return true;
  } catch (e) {
    if ((e as { code?: string }).code !== 'EEXIST') throw e;
    let holder = 0;
    try {
      holder = Number(readFileSync(join(LOCK, 'pid'), 'utf8')) || 0;
    } catch {
      // the holder has not written its pid yet, or just released the lock
    }
    if (holder > 0 && !alive(holder)) rmSync(LOCK, { recursive: true, force: true });
    return false;
  }
}

/** Builds dist/ (Node entries only) if it is stale; waits for a build another worker runs. */
export async function ensureBuilt(timeoutMs = 240_000): Promise<void> {
  if (!distIsStale() || builtThisRun()) return;
  const deadline = Date.now() + timeoutMs;
  while (!tryLock()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${LOCK}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  try {
    if (!distIsStale() || builtThisRun()) return;
    const rollup = join(ROOT, 'node_modules', 'rollup', 'dist', 'bin', 'rollup');
    const r = spawnSync(process.execPath, [rollup, '-c', '--environment', 'DIDCOMM_BUILD:node'], { cwd: ROOT, encoding: 'utf8', timeout: timeoutMs });
    if (r.status !== 0) throw new Error(`build failed (${r.status ?? r.signal}):\n${r.stderr}\n${r.stdout}`);
    writeFileSync(MARKER, String(process.ppid));
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
