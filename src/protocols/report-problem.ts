/**
 * Report Problem 2.0 (DIDComm v2.1 §Problem Reports): the problem-report message, built from a
 * DidcommError (its code maps to a problem code, src/errors.ts PROBLEM_CODES) and parsed on
 * receipt. `pthid` names the thread that had the problem; comments are static per code (no
 * attacker-controlled text is echoed back beyond the error's own message).
 */
import { err, type DidcommError } from '../errors.js';
import { isJsonObject } from '../util/json.js';
import type { Message } from '../message/message.js';

export const PROBLEM_REPORT_TYPE = 'https://didcomm.org/report-problem/2.0/problem-report';
const CODE_RE = /^[ew]\.[a-z0-9_-]+(\.[a-z0-9_-]+)*$/u;

export interface ProblemReportInput {
  id: string;
  code: string;
  /** The thread that had the problem (the offending message's thid, or its id). */
  pthid: string;
  comment?: string;
  args?: string[];
  from?: string;
  to?: string[];
  /** Ids of messages this report acknowledges. */
  ack?: string[];
  escalateTo?: string;
  createdTime?: number;
}

export function problemReport(p: ProblemReportInput): Message {
  if (!CODE_RE.test(p.code)) throw err('ERR_ARGUMENT', `bad problem code ${p.code}`);
  const body: Record<string, unknown> = { code: p.code };
  if (p.comment !== undefined) body.comment = p.comment;
  if (p.args !== undefined) body.args = p.args;
  if (p.escalateTo !== undefined) body.escalate_to = p.escalateTo;
  const m: Message = { id: p.id, type: PROBLEM_REPORT_TYPE, pthid: p.pthid, body: body as Message['body'] };
  if (p.from !== undefined) m.from = p.from;
  if (p.to !== undefined) m.to = p.to;
  if (p.ack !== undefined) m.ack = p.ack;
  if (p.createdTime !== undefined) m.created_time = p.createdTime;
  return m;
}

/** A problem report answering `offending` because of `error`. */
export function problemReportFor(error: DidcommError, offending: Pick<Message, 'id' | 'thid'>, extra: Omit<ProblemReportInput, 'code' | 'pthid' | 'comment'>): Message {
  return problemReport({ ...extra, code: error.problemCode, pthid: offending.thid ?? offending.id, comment: `${error.code}: {1}`, args: [error.message.slice(0, 200)] });
}

export interface ParsedProblem {
  code: string;
  comment: string | undefined;
  args: string[];
  pthid: string;
  /** "e" (error) or "w" (warning). */
  sorter: 'e' | 'w';
}

export function parseProblemReport(m: Message): ParsedProblem {
  if (m.type !== PROBLEM_REPORT_TYPE) throw err('ERR_ARGUMENT', 'not a problem report');
  const b = m.body;
  if (!isJsonObject(b) || typeof b.code !== 'string' || !CODE_RE.test(b.code)) throw err('ERR_INVALID_MESSAGE', 'problem report: bad body.code');
  if (typeof m.pthid !== 'string') throw err('ERR_INVALID_MESSAGE', 'problem report: pthid is required');
  const args = Array.isArray(b.args) ? b.args.filter((a): a is string => typeof a === 'string') : [];
  return { code: b.code, comment: typeof b.comment === 'string' ? b.comment : undefined, args, pthid: m.pthid, sorter: b.code[0] as 'e' | 'w' };
}

/** The comment with `{1}`, `{2}`... replaced by args (missing ones become "?"). */
export function renderProblemComment(p: ParsedProblem): string | undefined {
  return p.comment?.replace(/\{(\d+)\}/gu, (_, n: string) => p.args[Number(n) - 1] ?? '?');
}
