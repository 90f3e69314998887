/**
 * The table of `didcomm-iot` subcommands. Adding a command is one module under commands/ plus one
 * `registerCommand` line here (or a call from an embedding program before `runCli`). Entries load
 * their module with a dynamic `import()`, so `didcomm-iot pack` never loads the mediator, MQTT or
 * serialport code of other commands.
 */
import { err } from '../errors.js';
import type { CommandEntry } from './command.js';

const commands = new Map<string, CommandEntry>();

/** Adds (or replaces) a subcommand. */
export function registerCommand(entry: CommandEntry): void {
  if (!/^[a-z][a-z0-9-]*$/u.test(entry.name)) throw err('ERR_ARGUMENT', `bad command name "${entry.name}"`);
  commands.set(entry.name, entry);
}

export function findCommand(name: string): CommandEntry | undefined {
  return commands.get(name);
}

/** All registered commands, in registration order. */
export function listCommands(): CommandEntry[] {
  return [...commands.values()];
}

registerCommand({ name: 'did', synopsis: 'did new [--method key|peer] [--service URI] [--out FILE]', summary: 'did new: create a static DID (did:key or did:peer:2) and its secrets file', load: () => import('./commands/did.js') });
registerCommand({ name: 'pack', synopsis: 'pack --mode plain|signed|anoncrypt|authcrypt|pairwise [options]', summary: 'pack a plaintext message into an envelope', load: () => import('./commands/pack.js') });
registerCommand({ name: 'unpack', synopsis: 'unpack [--secrets FILE]... [--dids FILE]... [--in FILE]', summary: 'unpack an envelope (JSON or compact) to {message, meta}', load: () => import('./commands/unpack.js') });
registerCommand({ name: 'provision', synopsis: 'provision --board BOARD --mediator DID --controller DID --out DIR [options]', summary: 'provision a device: static DID, pairwise contexts or secrets, board config and bundle', load: () => import('./commands/provision.js') });
registerCommand({ name: 'sim', synopsis: 'sim [--devices N] [--espruino N] [--loss P] [--sf SF] [--duration S] [--seed N] [--json]', summary: 'run a simulated field of devices, mediator and controller (what npm start runs)', load: () => import('./commands/sim.js') });
registerCommand({ name: 'mediator', synopsis: 'mediator [--config FILE] [--http PORT] [--ws PORT] [--mqtt URL] [--store URL] [--secrets FILE]', summary: 'run the DIDComm mediator', load: () => import('./commands/mediator.js') });
registerCommand({ name: 'ping', synopsis: 'ping --to DID --endpoint URL [--secrets FILE]', summary: 'trust ping over HTTP, print the round-trip time', load: () => import('./commands/ping.js') });
registerCommand({ name: 'pickup', synopsis: 'pickup --secrets FILE --mediator URL [--mediator-did DID]', summary: 'pick up queued messages from a mediator', load: () => import('./commands/pickup.js') });
