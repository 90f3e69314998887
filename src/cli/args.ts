/**
 * The command-line argument parser of `didcomm-iot`: small and strict. Long flags (`--to X`,
 * `--to=X`), one-letter aliases (`-h`), boolean flags, repeatable flags, value choices, `--` to end
 * the flags. Anything it does not understand is an ERR_USAGE DidcommError (exit code 2).
 */
import { err, type DidcommError } from '../errors.js';

export interface FlagSpec {
  type: 'string' | 'boolean';
  /** May be given several times (values are collected in order). */
  multiple?: boolean;
  /** Allowed values of a string flag. */
  choices?: readonly string[];
  /** One-letter alias, without the dash. */
  short?: string;
  /** Placeholder shown in messages, e.g. 'DID'. */
  value?: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

export interface ParsedArgs {
  positionals: string[];
  /** The value of a single-valued string flag. */
  string(name: string): string | undefined;
  /** All values of a string flag (empty when absent). */
  strings(name: string): string[];
  bool(name: string): boolean;
  has(name: string): boolean;
}

export function usageError(message: string): DidcommError {
  return err('ERR_USAGE', message);
}

/** `-h` / `--help` anywhere before `--`: the caller prints usage instead of parsing. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

export function parseArgs(argv: readonly string[], specs: FlagSpecs): ParsedArgs {
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, s] of Object.entries(specs)) if (s.short) byShort.set(s.short, name);

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
    } else {
      const long = arg.length === 2 ? byShort.get(arg[1]!) : undefined;
      if (long === undefined) throw usageError(`unknown option ${arg}`);
      name = long;
    }
    const spec = Object.prototype.hasOwnProperty.call(specs, name) ? specs[name] : undefined;
    if (!spec) throw usageError(`unknown option --${name}`);
    if (spec.type === 'boolean') {
      if (inline !== undefined) throw usageError(`--${name} takes no value`);
      flags.add(name);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) throw usageError(`--${name} needs a value${spec.value ? ` (${spec.value})` : ''}`);
      value = next;
      i++;
    }
    if (spec.choices && !spec.choices.includes(value)) throw usageError(`--${name} must be one of ${spec.choices.join(', ')} (got "${value}")`);
    const list = values.get(name) ?? [];
    if (list.length > 0 && !spec.multiple) throw usageError(`--${name} may be given only once`);
    list.push(value);
    values.set(name, list);
  }

  return {
    positionals,
    string: (name) => values.get(name)?.[0],
    strings: (name) => [...(values.get(name) ?? [])],
    bool: (name) => flags.has(name),
    has: (name) => flags.has(name) || values.has(name),
  };
}

/** Parses a bounded decimal integer flag value; ERR_USAGE otherwise. */
export function intFlag(name: string, value: string, min: number, max: number): number {
  if (!/^\d{1,9}$/u.test(value)) throw usageError(`--${name} must be an integer from ${min} to ${max} (got "${value}")`);
  const n = Number(value);
  if (n < min || n > max) throw usageError(`--${name} must be an integer from ${min} to ${max} (got ${n})`);
  return n;
}
