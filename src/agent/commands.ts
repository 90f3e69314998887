/**
 * The actuator side of Command 1.0 (src/protocols/command.ts, docs/protocols.md §Command):
 * named command handlers, and the authorization policy checked on EVERY request — the sender
 * must be authenticated by the envelope (authcrypt, signature or pairwise context), be on the
 * allowlist of controller DIDs, and hold every right the command requires ('*' = all rights).
 * Refusals throw DidcommError (ERR_NOT_AUTHORIZED → e.p.trust, ERR_UNSUPPORTED →
 * e.p.msg.unsupported), which the dispatcher answers with a problem report. Idempotence comes
 * from the dispatcher's dedupe: a duplicate request is answered with the cached result and the
 * handler does not run again.
 */
import { err, isDidcommError } from '../errors.js';
import { parseRequest, RESULT_TYPE } from '../protocols/command.js';
import type { JsonValue } from '../util/json.js';
import type { CommandHandler, InboundMessage, ReplyDraft } from './types.js';

interface Registered {
  handler: CommandHandler;
  rights: string[];
}

export interface CommandStats {
  executed: number;
  refused: number;
  failed: number;
}

export class CommandService {
  readonly stats: CommandStats = { executed: 0, refused: 0, failed: 0 };
  private readonly commands = new Map<string, Registered>();
  private readonly controllers = new Map<string, Set<string>>();

  constructor(controllers: Record<string, string[]> = {}) {
    for (const [did, rights] of Object.entries(controllers)) this.setRights(did, rights);
  }

  /** Registers `name`; a controller needs every right in `rights` (default: [name]). */
  on(name: string, handler: CommandHandler, o: { rights?: string[] } = {}): void {
    if (typeof name !== 'string' || name.length === 0) throw err('ERR_ARGUMENT', 'command name must be a non-empty string');
    if (typeof handler !== 'function') throw err('ERR_ARGUMENT', 'command handler must be a function');
    this.commands.set(name, { handler, rights: o.rights ?? [name] });
  }

  /** Grants `rights` to a controller DID (undefined or [] removes it from the allowlist). */
  setRights(did: string, rights: string[] | undefined): void {
    if (!rights || rights.length === 0) this.controllers.delete(did);
    else this.controllers.set(did, new Set(rights));
  }

  /** Throws ERR_NOT_AUTHORIZED / ERR_UNSUPPORTED unless `sender` may run `command`. */
  authorize(sender: string | undefined, authenticated: boolean, command: string): Registered {
    if (!sender || !authenticated) throw err('ERR_NOT_AUTHORIZED', 'commands are accepted only from authenticated senders');
    const granted = this.controllers.get(sender);
    if (!granted) throw err('ERR_NOT_AUTHORIZED', 'sender is not an allowed controller');
    const reg = this.commands.get(command);
    if (!reg) throw err('ERR_UNSUPPORTED', `unknown command ${command}`);
    if (!granted.has('*') && !reg.rights.every((r) => granted.has(r))) throw err('ERR_NOT_AUTHORIZED', `controller lacks the rights for ${command}`);
    return reg;
  }

  /** The dispatcher handler for command requests. */
  readonly handleRequest = async (inb: InboundMessage): Promise<ReplyDraft> => {
    let reg: Registered;
    let req: ReturnType<typeof parseRequest>;
    try {
      req = parseRequest(inb.message);
      reg = this.authorize(inb.sender, inb.meta.authenticated, req.command);
    } catch (e) {
      this.stats.refused++;
      throw e;
    }
    let result: JsonValue | void;
    try {
      result = await reg.handler({ command: req.command, ...(req.target !== undefined ? { target: req.target } : {}), ...(req.args !== undefined ? { args: req.args } : {}), from: inb.sender!, message: inb.message });
    } catch (e) {
      this.stats.failed++;
      const error = isDidcommError(e) ? { code: e.code, message: e.message.slice(0, 200) } : { code: 'ERR_REFUSED', message: 'command failed' };
      return { type: RESULT_TYPE, body: { status: 'error', result: error } };
    }
    this.stats.executed++;
    return { type: RESULT_TYPE, body: result === undefined ? { status: 'ok' } : { status: 'ok', result } };
  };
}
