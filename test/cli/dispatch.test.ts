/**
 * The dispatcher and argument parser: help and version, exit status 2 with `error: ERR_USAGE`
 * plus a usage hint for every kind of usage error, one-line typed errors (no stack trace unless
 * DEBUG) for unexpected exceptions, the command table, and lazy loading of command modules.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli, registerCommand, listCommands } from '../../src/cli/index.js';
import { parseArgs, intFlag } from '../../src/cli/args.js';
import { DidcommError } from '../../src/errors.js';
import { errorCode, run } from './helpers.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

describe('help and version', () => {
  it('--version prints the package version', async () => {
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${pkg.version}\n`);
  });

  it.each([['--help'], ['-h'], ['help']])('%s prints the command list', async (flag) => {
    const r = await run([flag]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^usage: didcomm-iot <command>/u);
    for (const name of ['did', 'pack', 'unpack']) expect(r.out).toContain(`  ${name} `);
    expect(r.err).toBe('');
  });

  it.each([
    ['did', '--help'],
    ['did', 'new', '--help'],
    ['pack', '--help'],
    ['pack', '-h'],
    ['unpack', '--help'],
    ['unpack', '--in', 'x', '-h'],
    ['pack', '--bogus', '--help'],
  ])('%s %s prints that command’s usage and exits 0', async (...argv) => {
    const r = await run(argv);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^usage: didcomm-iot ${argv[0]}`, 'u'));
    expect(r.err).toBe('');
  });

  it('help <command> prints that command’s usage', async () => {
    const r = await run(['help', 'pack']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^usage: didcomm-iot pack --mode/u);
  });
});

describe('usage errors exit 2 with ERR_USAGE and a hint', () => {
  it.each([
    [[]],
    [['bogus']],
    [['--bogus']],
    [['pack', '--bogus']],
    [['pack', '--mode', 'plain', 'stray']],
    [['pack']],
    [['pack', '--mode', 'telepathy']],
    [['pack', '--mode']],
    [['pack', '--mode', 'plain', '--mode', 'signed']],
    [['pack', '--mode', 'plain', '--sign']],
    [['pack', '--mode', 'plain', '--sign=yes']],
    [['pack', '--mode', 'pairwise', '--from', 'did:key:z6Mk', '--to', 'did:key:z6Mk', '--secrets', 'x']],
    [['pack', '--mode', 'pairwise', '--format', 'compact', '--to', 'did:key:z6Mk', '--secrets', 'x']],
    [['pack', '--mode', 'pairwise', '--format', 'compact', '--from', 'did:key:a', '--secrets', 'x']],
    [['pack', '--mode', 'pairwise', '--format', 'compact', '--from', 'did:key:a', '--to', 'did:key:b', '--to', 'did:key:c', '--secrets', 'x']],
    [['pack', '--mode', 'pairwise', '--format', 'compact', '--from', 'did:key:a', '--to', 'did:key:b']],
    [['pack', '--mode', 'anoncrypt', '--format', 'compact', '--enc', 'A256GCM']],
    [['pack', '--mode', 'anoncrypt', '--enc', 'ROT13']],
    [['pack', '--mode', 'anoncrypt', '--hints', '2']],
    [['pack', '--mode', 'anoncrypt', '--format', 'compact', '--hints', '9']],
    [['pack', '--mode', 'anoncrypt', '--format', 'compact', '--hints', 'two']],
    [['pack', '--mode', 'anoncrypt', '--protect-sender']],
    [['pack', '--mode', 'anoncrypt', '--state', 'x']],
    [['pack', '--mode', 'signed', '--format', 'cbor']],
    [['did']],
    [['did', 'old']],
    [['did', 'new', '--method', 'web']],
    [['did', 'new', '--method', 'key', '--service', 'https://x.example']],
    [['did', 'new', '--service', 'not a uri']],
    [['did', 'new', '--force']],
    [['did', 'new', '--method', 'peer', '--key-type', 'P-256']],
    [['unpack', '--peer', 'not-a-did']],
    [['help', 'bogus']],
  ])('%j', async (argv) => {
    const r = await run(argv, { stdin: '{"id":"1","type":"t"}' });
    expect(r.code).toBe(2);
    expect(errorCode(r)).toBe('ERR_USAGE');
    expect(r.errLines.length).toBeGreaterThanOrEqual(2);
    expect(r.errLines[1]).toMatch(/^usage: didcomm-iot /u);
    expect(r.out).toBe('');
  });
});

describe('errors that are not usage errors', () => {
  it('an unexpected exception is one typed line without a stack trace, and a trace with DEBUG', async () => {
    const boom = { write: () => { throw new TypeError('stdout exploded'); } };
    const lines: string[] = [];
    const stderr = { write: (s: Uint8Array | string) => lines.push(String(s)) };
    const code = await runCli(['--version'], { stdout: boom, stderr, env: {}, stdin: [] });
    expect(code).toBe(1);
    expect(lines.join('')).toMatch(/^error: ERR_ARGUMENT: internal error: stdout exploded \(set DEBUG=1 for details\)\n$/u);

    const debugLines: string[] = [];
    const code2 = await runCli(['--version'], { stdout: boom, stderr: { write: (s) => debugLines.push(String(s)) }, env: { DEBUG: '1' }, stdin: [] });
    expect(code2).toBe(1);
    expect(debugLines.join('')).toContain('TypeError: stdout exploded\n    at ');
  });

  it('a missing input file is ERR_ARGUMENT, exit 1, one line', async () => {
    const r = await run(['pack', '--mode', 'plain', '--in', '/nonexistent/dir/message.json']);
    expect(r.code).toBe(1);
    expect(errorCode(r)).toBe('ERR_ARGUMENT');
    expect(r.errLines).toHaveLength(1);
    expect(r.err).toContain('ENOENT');
  });
});

describe('argument parser', () => {
  const specs = { to: { type: 'string', multiple: true }, from: { type: 'string' }, sign: { type: 'boolean', short: 's' } } as const;

  it('collects repeatable flags in order, accepts --flag=value, aliases and --', () => {
    const a = parseArgs(['--to', 'a', 'pos', '--to=b', '-s', '--from=x=y', '--', '--to', 'c'], specs);
    expect(a.strings('to')).toEqual(['a', 'b']);
    expect(a.string('from')).toBe('x=y');
    expect(a.bool('sign')).toBe(true);
    expect(a.positionals).toEqual(['pos', '--to', 'c']);
    expect(a.has('from')).toBe(true);
    expect(a.has('nothing')).toBe(false);
  });

  it('rejects prototype names, missing values and repeats of single flags with ERR_USAGE', () => {
    for (const argv of [['--constructor'], ['--__proto__', 'x'], ['--to'], ['--from', 'a', '--from', 'b'], ['-x'], ['--to', '--from']]) {
      expect(() => parseArgs(argv, specs)).toThrow(DidcommError);
      try {
        parseArgs(argv, specs);
      } catch (e) {
        expect((e as DidcommError).code).toBe('ERR_USAGE');
      }
    }
  });

  it('bounds integer flags', () => {
    expect(intFlag('hints', '8', 1, 8)).toBe(8);
    for (const v of ['0', '9', '-1', '1.5', '1e1', '', '99999999999']) expect(() => intFlag('hints', v, 1, 8)).toThrow(/--hints/u);
  });
});

describe('command table', () => {
  it('a registered command is loaded only when it runs, and receives the remaining arguments', async () => {
    let loads = 0;
    registerCommand({
      name: 'echo-test',
      synopsis: 'echo-test [WORDS...]',
      summary: 'test command',
      load: async () => {
        loads++;
        return { command: { usage: 'usage: didcomm-iot echo-test\n', run: async (argv, io) => (io.stdout.write(argv.join(' ')), 0) } };
      },
    });
    expect(listCommands().map((c) => c.name)).toContain('echo-test');
    await run(['--help']);
    await run(['pack', '--help']);
    expect(loads).toBe(0);
    const r = await run(['echo-test', 'a', 'b']);
    expect(r).toMatchObject({ code: 0, out: 'a b' });
    expect(loads).toBe(1);
  });

  it('the dispatcher statically imports no command module and no envelope code', () => {
    // Walk the static (non-type) import graph of src/cli/index.ts.
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/index.ts');
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'(\.[^']+)'/gmu)) {
        visit(join(dirname(file), m[1]!.replace(/\.js$/u, '.ts')));
      }
    };
    visit(root);
    const rel = [...seen].map((f) => f.slice(f.indexOf('/src/') + 1));
    expect(rel).toContain('src/cli/registry.ts');
    expect(rel.filter((f) => f.startsWith('src/cli/commands/') || f.startsWith('src/envelope/') || f.startsWith('src/did/'))).toEqual([]);
  });
});
