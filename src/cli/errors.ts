/**
 * How the CLI reports failures: every exception becomes a DidcommError with a code from
 * ERROR_CODES (src/errors.ts), printed as one line `error: CODE: message` on standard error. Exit
 * status 1 for errors, 2 for ERR_USAGE. Stack traces only when DEBUG is set.
 */
import { err, isDidcommError, type DidcommError } from '../errors.js';

/** Codes of Node system errors that mean "this path cannot be used as given". */
const PATH_ERRORS = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'ELOOP', 'ENAMETOOLONG', 'EINVAL', 'EBADF']);
/** Codes that mean the storage itself failed. */
const STORAGE_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EMFILE', 'ENFILE', 'EBUSY', 'EXDEV']);

function systemCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/u.test(code) ? code : undefined;
}

function describe(e: unknown): string {
  const code = systemCode(e);
  const syscallMessage = e instanceof Error ? e.message : String(e);
  if (!code) return syscallMessage;
  const bare = syscallMessage.replace(/^[A-Z]+: /u, '').replace(/, \w+ '.*'$/u, '');
  return `${code} (${bare})`;
}

/** Wraps a file-system failure (or passes a DidcommError through). */
export function ioError(e: unknown, context: string): DidcommError {
  if (isDidcommError(e)) return e;
  const code = systemCode(e);
  if (code === 'EEXIST') return err('ERR_REFUSED', `${context}: it already exists`, { cause: e });
  if (code && STORAGE_ERRORS.has(code)) return err('ERR_STORE', `${context}: ${describe(e)}`, { cause: e });
  if (code && PATH_ERRORS.has(code)) return err('ERR_ARGUMENT', `${context}: ${describe(e)}`, { cause: e });
  return toDidcommError(e, context);
}

/**
 * Any exception as a DidcommError. Something that is neither a DidcommError nor a system error is
 * a bug in this program (a programming error), reported as ERR_ARGUMENT.
 */
export function toDidcommError(e: unknown, context?: string): DidcommError {
  if (isDidcommError(e)) return e;
  const prefix = context ? `${context}: ` : '';
  const code = systemCode(e);
  if (code && STORAGE_ERRORS.has(code)) return err('ERR_STORE', `${prefix}${describe(e)}`, { cause: e });
  if (code && PATH_ERRORS.has(code)) return err('ERR_ARGUMENT', `${prefix}${describe(e)}`, { cause: e });
  if (code === 'EEXIST') return err('ERR_REFUSED', `${prefix}${describe(e)}`, { cause: e });
  return err('ERR_ARGUMENT', `${prefix}internal error: ${describe(e)} (set DEBUG=1 for details)`, { cause: e });
}

/** The one line printed for an error (newlines in messages are flattened). */
export function errorLine(e: DidcommError): string {
  return `error: ${e.code}: ${e.message.replace(/[\r\n]+/gu, ' ')}`;
}

/** The stack trace and cause chain, for DEBUG. */
export function debugTrace(e: unknown): string {
  const lines: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur !== undefined && depth < 8; depth++) {
    lines.push(depth === 0 ? String((cur as Error)?.stack ?? cur) : `caused by: ${String((cur as Error)?.stack ?? cur)}`);
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return lines.join('\n');
}
