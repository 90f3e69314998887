/**
 * Problem reports a peer sends back turn into local errors callers switch on (`errorForProblem`):
 * every problem code our own errors map to comes back as an error with that same problem code,
 * and codes we do not know become ERR_REFUSED (e.p.req), never a crash.
 */
import { describe, expect, it } from 'vitest';
import { DidcommError, ERROR_CODES } from '../../src/errors.js';
import { errorForProblem } from '../../src/agent/builtin.js';

describe('errorForProblem', () => {
  it('round-trips every problem code our errors use', () => {
    for (const code of ERROR_CODES) {
      const pc = new DidcommError(code, 'x').problemCode;
      const back = errorForProblem(pc, 'peer said so');
      expect(back.problemCode, `${code} → ${pc} → ${back.code}`).toBe(pc);
      expect(back.message).toContain(pc);
    }
  });

  it('maps the mailbox-full and rate-limit answers of a mediator to what a sender can act on', () => {
    expect(errorForProblem('e.p.me.res.storage', undefined).code).toBe('ERR_STORE_FULL');
    expect(errorForProblem('e.p.me.res', undefined).code).toBe('ERR_RATE_LIMITED');
    expect(errorForProblem('e.p.me.res.storage.message_too_big', undefined).code).toBe('ERR_TOO_LARGE');
    expect(errorForProblem('w.p.xyz.unknown', 'x'.repeat(1000)).code).toBe('ERR_REFUSED');
    expect(errorForProblem('w.p.xyz.unknown', 'x'.repeat(1000)).message.length).toBeLessThan(260);
  });
});
