/**
 * Command 1.0 security (docs/protocols.md §Command): the authorization policy is checked on every
 * request and only authenticated envelopes count; refusals are problem reports with the right
 * code and never reach the actuator; a command runs once however often it is delivered, and a
 * retry gets the same result.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock, type Clock } from '../../src/util/clock.js';
import { MemoryHub, type MemoryTransport } from '../../transports/memory.js';
import { pack } from '../../src/envelope/index.js';
import { SecretsStore } from '../../src/did/secrets.js';
import { defaultCrypto } from '../../src/crypto/default.js';
import { REQUEST_TYPE, request as commandRequest } from '../../src/protocols/command.js';
import type { Agent } from '../../src/agent/agent.js';
import type { PeerMode, ProblemEvent } from '../../src/agent/types.js';
import type { SecretsFile } from '../../src/did/create.js';
import type { Transport } from '../../transports/types.js';
import { codeOf, drive, identities, lossy, makeAgent, resolverFor } from './helpers.js';

interface World {
  clock: ManualClock;
  hub: MemoryHub;
  actuator: Agent;
  controller: Agent;
  intruder: Agent;
  weak: Agent;
  ids: { a: SecretsFile; c: SecretsFile; x: SecretsFile; w: SecretsFile };
  calls: number[];
  frames: Array<{ frame: Uint8Array; from: string; to: string | undefined }>;
  problems: Record<'a' | 'c' | 'x' | 'w', ProblemEvent[]>;
  actuatorLink: Transport & { dropNext: number };
  evil: MemoryTransport;
}

async function world(mode: PeerMode = 'authcrypt', controllerSkewMs = 0): Promise<World> {
  const clock = new ManualClock();
  const hub = new MemoryHub({ clock, mtu: 8192 });
  const [a, c, x, w] = identities(4);
  const known = [a!, c!, x!, w!];
  const actuatorLink = lossy(hub.attach('a'));
  const addr = { [a!.did]: 'a', [c!.did]: 'c', [x!.did]: 'x', [w!.did]: 'w' };
  const actuator = makeAgent({
    id: a!,
    clock,
    known,
    transport: actuatorLink,
    peers: addr,
    peerConfigs: [{ did: c!.did, mode }],
    extra: { controllers: { [c!.did]: ['actuate'], [w!.did]: ['read'] } },
  });
  const calls: number[] = [];
  actuator.onCommand('relay', ({ args }) => {
    calls.push(clock.now());
    return { on: (args as { on: boolean }).on, count: calls.length };
  }, { rights: ['actuate'] });
  // a controller whose clock runs `controllerSkewMs` behind (same timers)
  const ctrlClock: Clock = { now: () => clock.now() - controllerSkewMs, setTimer: (ms, fn) => clock.setTimer(ms, fn) };
  const controller = makeAgent({ id: c!, clock: ctrlClock as ManualClock, known, transport: hub.attach('c'), peers: addr, peerConfigs: [{ did: a!.did, mode }] });
  const intruder = makeAgent({ id: x!, clock, known, transport: hub.attach('x'), peers: addr });
  const weak = makeAgent({ id: w!, clock, known, transport: hub.attach('w'), peers: addr });
  const problems = { a: [] as ProblemEvent[], c: [] as ProblemEvent[], x: [] as ProblemEvent[], w: [] as ProblemEvent[] };
  actuator.on('problem', (p) => problems.a.push(p));
  controller.on('problem', (p) => problems.c.push(p));
  intruder.on('problem', (p) => problems.x.push(p));
  weak.on('problem', (p) => problems.w.push(p));
  const frames: World['frames'] = [];
  hub.on('transmit', (frame, from, to) => frames.push({ frame, from, to }));
  for (const ag of [actuator, controller, intruder, weak]) await ag.start();
  return { clock, hub, actuator, controller, intruder, weak, ids: { a: a!, c: c!, x: x!, w: w! }, calls, frames, problems, actuatorLink, evil: hub.attach('evil') };
}

const sent = (ps: ProblemEvent[]) => ps.filter((p) => p.direction === 'sent').map((p) => p.code);
const received = (ps: ProblemEvent[]) => ps.filter((p) => p.direction === 'received').map((p) => p.code);

describe('command authorization and replay protection', () => {
  it('an allowed controller runs a command and gets its result', async () => {
    const w = await world();
    const r = await drive(w.clock, w.controller.command(w.ids.a.did, { command: 'relay', args: { on: true } }));
    expect(r).toEqual({ status: 'ok', result: { on: true, count: 1 } });
    expect(w.calls).toHaveLength(1);
  });

  it('refuses a DID that is not on the allowlist (e.p.trust), and one without the right', async () => {
    const w = await world();
    expect(await codeOf(drive(w.clock, w.intruder.command(w.ids.a.did, { command: 'relay', args: { on: true } })))).toBe('ERR_NOT_AUTHORIZED');
    expect(await codeOf(drive(w.clock, w.weak.command(w.ids.a.did, { command: 'relay', args: { on: true } })))).toBe('ERR_NOT_AUTHORIZED');
    expect(w.calls).toHaveLength(0);
    expect(sent(w.problems.a)).toEqual(['e.p.trust', 'e.p.trust']);
    expect(received(w.problems.x)).toEqual(['e.p.trust']);
    expect(received(w.problems.w)).toEqual(['e.p.trust']);
    // unknown command from an allowed controller: e.p.msg.unsupported
    expect(await codeOf(drive(w.clock, w.controller.command(w.ids.a.did, { command: 'self-destruct' })))).toBe('ERR_UNSUPPORTED');
  });

  it('refuses an anonymous (anoncrypt) command: commands need an authenticated sender', async () => {
    const w = await world();
    const ctx = { crypto: defaultCrypto, resolver: resolverFor([w.ids.a, w.ids.c]), secrets: new SecretsStore() };
    const m = { ...commandRequest('anon-cmd-1', w.ids.c.did, w.ids.a.did, { command: 'relay', args: { on: true } }), created_time: Math.floor(w.clock.now() / 1000) };
    const frame = (await pack(ctx, m, { mode: 'anoncrypt', format: 'compact', to: [w.ids.a.did] })).bytes;
    await w.evil.send(frame, 'a');
    await w.clock.advance(10_000);
    expect(w.calls).toHaveLength(0);
    expect(sent(w.problems.a)).toEqual(['e.p.trust']); // to the claimed `from` (rate-limited)
  });

  for (const mode of ['authcrypt', 'pairwise'] as const) {
    it(`${mode}: a replayed command frame is refused (e.p.msg.replay) and does not run again`, async () => {
      const w = await world(mode);
      await drive(w.clock, w.controller.command(w.ids.a.did, { command: 'relay', args: { on: true } }));
      const request = w.frames.find((f) => f.from === 'c' && f.to === 'a')!;
      await w.evil.send(request.frame, 'a');
      await w.clock.advance(60_000);
      expect(w.calls).toHaveLength(1);
      expect(sent(w.problems.a)).toEqual(['e.p.msg.replay']);
      expect(received(w.problems.c)).toEqual(['e.p.msg.replay']);
    });
  }

  it('an expired command is refused (e.p.req.time); a controller clock 4 min behind makes its 1-min command expire', async () => {
    const w = await world('authcrypt', 240_000);
    const p = w.controller.command(w.ids.a.did, { command: 'relay', args: { on: true } }, { timeoutMs: 60_000 });
    expect(await codeOf(drive(w.clock, p))).toBe('ERR_EXPIRED');
    expect(w.calls).toHaveLength(0);
    expect(sent(w.problems.a)).toEqual(['e.p.req.time']);
  });

  it('a command with a wrong signature or a wrong tag is refused (e.p.trust.crypto) and never runs', async () => {
    const w = await world('pairwise');
    const secrets = new SecretsStore();
    secrets.addFromJson(w.ids.c);
    const ctx = { crypto: defaultCrypto, resolver: resolverFor([w.ids.a, w.ids.c]), secrets };
    const m = { ...commandRequest('cmd-forged-1', w.ids.c.did, w.ids.a.did, { command: 'relay', args: { on: true } }), created_time: Math.floor(w.clock.now() / 1000) };
    const signed = (await pack(ctx, m, { mode: 'signed', format: 'compact', to: [w.ids.a.did], from: w.ids.c.did })).bytes;
    signed[signed.length - 5]! ^= 0x01; // inside the Ed25519 signature
    await w.evil.send(signed, 'a');
    await w.clock.advance(10_000);
    // a pairwise frame from the controller with one ciphertext bit flipped
    await drive(w.clock, w.controller.send({ type: REQUEST_TYPE, to: [w.ids.a.did], body: { command: 'relay', args: { on: false } } }));
    await w.clock.advance(10_000);
    expect(w.calls).toHaveLength(1);
    const good = w.frames.filter((f) => f.from === 'c' && f.to === 'a').at(-1)!.frame;
    expect(good[0]).toBe(0xe9); // a pairwise frame
    const bad = good.slice();
    bad[bad.length - 3]! ^= 0x80;
    await w.evil.send(bad, 'a');
    await w.clock.advance(10_000);
    const cryptoReports = sent(w.problems.a).filter((c) => c === 'e.p.trust.crypto');
    expect(cryptoReports).toHaveLength(2);
    expect(received(w.problems.c).filter((c) => c === 'e.p.trust.crypto')).toHaveLength(2);
    // the forged signed command named its id: the report's pthid points at it
    expect(w.problems.a.find((p) => p.code === 'e.p.trust.crypto')!.pthid).toBe('cmd-forged-1');
    expect(w.calls).toHaveLength(1); // only the genuine send() above ran
  });

  it('runs exactly once when delivered twice: a retry after a lost result gets the same result', async () => {
    const w = await world();
    w.actuatorLink.dropNext = 1; // the first result is lost on the air
    const r = await drive(w.clock, w.controller.command(w.ids.a.did, { command: 'relay', args: { on: true } }));
    expect(r).toEqual({ status: 'ok', result: { on: true, count: 1 } });
    expect(w.calls).toHaveLength(1);
    const requests = w.frames.filter((f) => f.from === 'c' && f.to === 'a');
    expect(requests.length).toBe(2); // the original and one retry (a fresh envelope, same id)
    expect(Buffer.compare(Buffer.from(requests[0]!.frame), Buffer.from(requests[1]!.frame))).not.toBe(0);
    const st = w.actuator.stats() as { inbound: { duplicates: number } };
    expect(st.inbound.duplicates).toBe(1);
    // and a link that duplicates every frame still runs a command once
    w.hub.setFaults({ duplicate: 1 });
    const r2 = await drive(w.clock, w.controller.command(w.ids.a.did, { command: 'relay', args: { on: false } }));
    expect(r2).toEqual({ status: 'ok', result: { on: false, count: 2 } });
    await w.clock.advance(60_000);
    expect(w.calls).toHaveLength(2);
  });
});
