/**
 * Command 1.0 (docs/protocols.md §Command; our protocol): a controller asks an actuator to do
 * something and gets the outcome back in the same thread.
 *
 *   https://didcomm.org/command/1.0/request  body = {command, target?, args?}
 *   https://didcomm.org/command/1.0/result   body = {status: "ok" | "error", result?}, thid = request id
 *
 * Refusals (not authorized, expired, replayed, unsupported command) are answered with a
 * report-problem 2.0 message instead of a result. Field names match the compact registry
 * (src/envelope/compact/registry.ts: command 1, target 2, args 3, status 4, result 5, value 6).
 */
import { err } from '../errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../util/json.js';
import type { Message } from '../message/message.js';

export const COMMAND_PIURI = 'https://didcomm.org/command/1.0';
export const REQUEST_TYPE = `${COMMAND_PIURI}/request`;
export const RESULT_TYPE = `${COMMAND_PIURI}/result`;

export const MAX_COMMAND_NAME = 64;
export const MAX_TARGET = 128;
const NAME_RE = /^[A-Za-z0-9._:-]+$/u;

export interface CommandRequest {
  command: string;
  target?: string;
  args?: JsonValue;
}

export type CommandStatus = 'ok' | 'error';

export interface CommandResult {
  status: CommandStatus;
  result?: JsonValue;
}

function invalid(msg: string): never {
  throw err('ERR_INVALID_MESSAGE', `command: ${msg}`);
}

function checkName(v: unknown, label: string, max: number, onError: (msg: string) => never): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max || !NAME_RE.test(v)) onError(`${label} must be 1..${max} characters of [A-Za-z0-9._:-]`);
  return v;
}

const argError = (msg: string): never => {
  throw err('ERR_ARGUMENT', `command: ${msg}`);
};

export function request(id: string, from: string | undefined, to: string, r: CommandRequest): Message {
  const body: JsonObject = { command: checkName(r.command, 'command', MAX_COMMAND_NAME, argError) };
  if (r.target !== undefined) body.target = checkName(r.target, 'target', MAX_TARGET, argError);
  if (r.args !== undefined) body.args = r.args;
  const m: Message = { id, type: REQUEST_TYPE, to: [to], body };
  if (from !== undefined) m.from = from;
  return m;
}

export function parseRequest(m: Message): CommandRequest {
  if (m.type !== REQUEST_TYPE) throw err('ERR_ARGUMENT', 'command: not a command request');
  const b = m.body;
  if (!isJsonObject(b)) invalid('body is required');
  const out: CommandRequest = { command: checkName(b.command, 'body.command', MAX_COMMAND_NAME, invalid) };
  if (b.target !== undefined) out.target = checkName(b.target, 'body.target', MAX_TARGET, invalid);
  if (b.args !== undefined) out.args = b.args;
  return out;
}

/** The result of `requestMessage`, threaded to it. */
export function result(id: string, requestMessage: Pick<Message, 'id' | 'thid' | 'from'>, from: string | undefined, r: CommandResult): Message {
  if (r.status !== 'ok' && r.status !== 'error') throw err('ERR_ARGUMENT', 'command: status must be "ok" or "error"');
  const body: JsonObject = { status: r.status };
  if (r.result !== undefined) body.result = r.result;
  const m: Message = { id, type: RESULT_TYPE, thid: requestMessage.thid ?? requestMessage.id, body };
  if (from !== undefined) m.from = from;
  if (requestMessage.from !== undefined) m.to = [requestMessage.from];
  return m;
}

export function parseResult(m: Message): CommandResult {
  if (m.type !== RESULT_TYPE) throw err('ERR_ARGUMENT', 'command: not a command result');
  const b = m.body;
  if (!isJsonObject(b) || (b.status !== 'ok' && b.status !== 'error')) invalid('body.status must be "ok" or "error"');
  if (typeof m.thid !== 'string') invalid('a result must carry the thid of its request');
  const out: CommandResult = { status: b.status };
  if (b.result !== undefined) out.result = b.result;
  return out;
}
