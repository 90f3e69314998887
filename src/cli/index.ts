/**
 * The `didcomm-iot` command (DESIGN §2 cli/): the dispatcher. `runCli(argv, io)` runs one command
 * in-process with injectable streams and resolves to the exit status — 0 success, 1 error (one
 * line `error: CODE: message` on standard error, CODE from ERROR_CODES), 2 usage error
 * (`error: ERR_USAGE: ...` plus a usage hint). `main()` is what bin/didcomm-iot.js calls.
 * Commands live one per module under commands/ and load lazily (registry.ts).
 */
import { isDidcommError } from '../errors.js';
import { usageError, wantsHelp } from './args.js';
import { debugTrace, errorLine, toDidcommError } from './errors.js';
import { nodeIo, type CliIo } from './io.js';
import { findCommand, listCommands } from './registry.js';
import type { CommandEntry } from './command.js';
import { PACKAGE_NAME, packageVersion } from './version.js';

export type { CliCommand, CommandEntry } from './command.js';
export type { CliIo, CliWritable } from './io.js';
export { registerCommand, findCommand, listCommands } from './registry.js';
export { parseArgs, usageError, type FlagSpec, type FlagSpecs, type ParsedArgs } from './args.js';

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

export function topUsage(): string {
  const entries = listCommands();
  const width = Math.max(...entries.map((e) => e.name.length), 8);
  const lines = [
    `usage: ${PACKAGE_NAME} <command> [options]`,
    '',
    'commands:',
    ...entries.map((e) => `  ${e.name.padEnd(width)}  ${e.summary}`),
    '',
    'options:',
    `  -h, --help    show help; "${PACKAGE_NAME} <command> --help" for a command's options`,
    '  --version     print the version',
    '',
    'Exit status: 0 success; 1 error, reported as one line "error: CODE: message" on standard',
    'error (CODE from the DidcommError codes); 2 usage error. Set DEBUG=1 for stack traces.',
    '',
  ];
  return lines.join('\n');
}

function usageHint(entry: CommandEntry | undefined): string {
  if (!entry) return `usage: ${PACKAGE_NAME} <command> [options]  (run "${PACKAGE_NAME} --help" for the commands)\n`;
  return `usage: ${PACKAGE_NAME} ${entry.synopsis}\n  (run "${PACKAGE_NAME} ${entry.name} --help" for all options)\n`;
}

async function dispatch(argv: readonly string[], io: CliIo, onEntry: (e: CommandEntry) => void): Promise<number> {
  const first = argv[0];
  if (first === undefined) throw usageError('missing command');
  if (first === '--help' || first === '-h') {
    io.stdout.write(topUsage());
    return EXIT_OK;
  }
  if (first === '--version' || first === '-V') {
    io.stdout.write(`${packageVersion()}\n`);
    return EXIT_OK;
  }
  if (first === 'help') {
    const name = argv[1];
    if (name === undefined) {
      io.stdout.write(topUsage());
      return EXIT_OK;
    }
    const entry = findCommand(name);
    if (!entry) throw usageError(`unknown command "${name}"`);
    io.stdout.write((await entry.load()).command.usage);
    return EXIT_OK;
  }
  if (first.startsWith('-')) throw usageError(`unknown option ${first}`);
  const entry = findCommand(first);
  if (!entry) throw usageError(`unknown command "${first}"`);
  onEntry(entry);
  const { command } = await entry.load();
  const rest = argv.slice(1);
  if (wantsHelp(rest)) {
    io.stdout.write(command.usage);
    return EXIT_OK;
  }
  return command.run(rest, io);
}

/**
 * Runs `didcomm-iot` with `argv` (the arguments after the program name). Never throws and never
 * calls process.exit: the exit status is the resolved value.
 */
export async function runCli(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const full: CliIo = { ...nodeIo(), ...io };
  let entry: CommandEntry | undefined;
  try {
    return await dispatch(argv, full, (e) => {
      entry = e;
    });
  } catch (e) {
    const error = toDidcommError(e);
    try {
      full.stderr.write(`${errorLine(error)}\n`);
      if (full.env.DEBUG) full.stderr.write(`${debugTrace(e)}\n`);
      if (error.code === 'ERR_USAGE') full.stderr.write(usageHint(entry));
    } catch {
      // standard error is gone; the exit status still tells
    }
    return isDidcommError(error) && error.code === 'ERR_USAGE' ? EXIT_USAGE : EXIT_ERROR;
  }
}

/** Entry point of the installed binary: runs with process.argv and sets process.exitCode. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  // A closed pipe on standard output (`didcomm-iot ... | head -c1`) is not an error of ours.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  process.exitCode = await runCli(argv);
}
