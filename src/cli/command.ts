/**
 * The shape of a `didcomm-iot` subcommand. A command is one module exporting `command`; the
 * dispatcher (index.ts) finds it in the registry (registry.ts) and loads it with `import()` only
 * when it runs, so one command never pays for another's dependencies.
 */
import type { CliIo } from './io.js';

export interface CliCommand {
  /** Full help text, printed by `didcomm-iot <name> --help` (ends with a newline). */
  usage: string;
  /** Runs with the arguments after the command name; resolves to the exit status. */
  run(argv: readonly string[], io: CliIo): Promise<number>;
}

export interface CommandEntry {
  /** The first word on the command line (`pack`, `did`, `mediator`...). */
  name: string;
  /** One-line synopsis after `didcomm-iot `, shown in the command list and usage hints. */
  synopsis: string;
  /** What it does, in a few words. */
  summary: string;
  /** Loads the command module lazily. */
  load(): Promise<{ command: CliCommand }>;
}
