/**
 * Scale-out (DESIGN §6): several mediator processes on one PostgreSQL store (DATABASE_URL) share
 * the mailboxes — mail accepted by one instance is picked up through another, and a live-mode
 * session on one instance gets mail accepted by the other (store notifications across
 * connections). With MQTT_URL (an MQTT v5 broker such as Mosquitto) the instances also share the
 * mediator's inbox through a `$share` group. Skipped visibly without those services.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { unpack } from '../../src/envelope/index.js';
import type { Message } from '../../src/message/message.js';
import * as C from '../../src/protocols/coordinate-mediation.js';
import * as P from '../../src/protocols/pickup.js';
import { Mediator } from '../../src/mediator/service.js';
import { openMediatorStores } from '../../src/mediator/stores.js';
import { MediatorMqttListener } from '../../src/mediator/listen-mqtt.js';
import { MqttTransport } from '../../transports/mqtt/index.js';
import { enroll, exchange, forwardTo, kidOf, makeParty, packFor, testSession, type Party } from './helpers.js';
import { closeAgent, httpRequest, pickupAll, post, startChild } from './child.js';

const DATABASE_URL = process.env.DATABASE_URL;
const MQTT_URL = process.env.MQTT_URL;
const REDIS_URL = process.env.REDIS_URL;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  cleanups.length = 0;
});
afterAll(() => closeAgent());

async function freshSchema(): Promise<string> {
  const schema = `med_scale_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  cleanups.push(async () => {
    const c = new pg.Client({ connectionString: DATABASE_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  });
  return schema;
}

/** `n` mediator instances sharing one identity and one store (PostgreSQL schema or Redis key prefix), each on its own connections. */
async function instances(n: number, backend: 'postgres' | 'redis' = 'postgres'): Promise<{ med: Party; mediators: Mediator[] }> {
  const isolation = backend === 'postgres' ? { schema: await freshSchema(), poolSize: 4 } : { keyPrefix: `med-scale-${process.pid}-${Math.random().toString(36).slice(2, 8)}:` };
  const med = makeParty();
  const mediators: Mediator[] = [];
  for (let i = 0; i < n; i++) {
    const stores = await openMediatorStores(backend === 'postgres' ? DATABASE_URL! : REDIS_URL!, isolation);
    cleanups.push(() => stores.close());
    mediators.push(await Mediator.create({ did: med.did, ctx: med.ctx, stores }));
  }
  return { med, mediators };
}

const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function eventually(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await realSleep(20);
  }
  throw new Error(`timed out: ${what}`);
}

/** Live mode on instance A sees mail accepted by instance B; pickup and key ownership span both. */
async function liveAcrossInstances({ med, mediators }: { med: Party; mediators: Mediator[] }): Promise<void> {
    const [a, b] = mediators as [Mediator, Mediator];
    const device = makeParty();
    await enroll(a, device);
    const ws = testSession({ kind: 'ws' });
    const on = await exchange(a, device, P.liveDeliveryChange(device.id(), device.did, a.did, true), { session: ws });
    expect(P.parseStatus(on.replies[0]!).liveDelivery).toBe(true);

    const f = await forwardTo(makeParty(), device.did, { did: med.did, kid: kidOf(med) }, { via: 'b' }, 'compact');
    expect((await b.receive(f.bytes, testSession({ kind: 'http', persistent: false }))).stored).toBe(true);
    await eventually(() => ws.pushed.length > 0, 'live push from instance A');
    const pushed = P.parseDelivery((await unpack(device.ctx, ws.pushed[0]!)).message);
    expect(pushed.messages.map((m) => m.bytes)).toEqual([f.inner]);
    // acknowledged through instance B
    const ack = await exchange(b, device, P.messagesReceived(device.id(), device.did, b.did, pushed.messages.map((m) => m.id)));
    expect(P.parseStatus(ack.replies[0]!).messageCount).toBe(0);
    // a key is owned once across instances
    const other = makeParty();
    await enroll(b, other, { keys: [other.did] });
    const steal = await exchange(a, other, C.keylistUpdate(other.id(), other.did, a.did, [{ recipientDid: device.did, action: 'add' }]));
    expect(C.parseKeylistUpdateResponse(steal.replies[0]!)[0]!.result).toBe('client_error');
}

describe.skipIf(!DATABASE_URL)('scale-out on PostgreSQL (DATABASE_URL)', () => {
  it('two in-process instances: accepted by one, live-pushed and picked up through the other', async () => {
    await liveAcrossInstances(await instances(2));
  });

  it('two mediator child processes on one database: forward through one, pick up through the other', async () => {
    const schema = await freshSchema();
    const url = new URL(DATABASE_URL!);
    url.searchParams.set('schema', schema);
    const dirA = mkdtempSync(join(tmpdir(), 'med-a-'));
    const dirB = mkdtempSync(join(tmpdir(), 'med-b-'));
    cleanups.push(async () => {
      rmSync(dirA, { recursive: true, force: true });
      rmSync(dirB, { recursive: true, force: true });
    });
    const childA = await startChild([dirA, url.toString()]);
    cleanups.push(() => childA.stop());
    // B shares A's identity (same secrets file), as instances of one mediator do
    const { copyFileSync } = await import('node:fs');
    copyFileSync(join(dirA, 'mediator-secrets.json'), join(dirB, 'mediator-secrets.json'));
    const childB = await startChild([dirB, url.toString()]);
    cleanups.push(() => childB.stop());
    expect(childB.did).toBe(childA.did);

    const did = childA.did;
    const device = makeParty();
    await httpRequest(childA.url, device, did, C.mediateRequest(device.id(), device.did, did));
    await httpRequest(childA.url, device, did, C.keylistUpdate(device.id(), device.did, did, [{ recipientDid: device.did, action: 'add' }]));
    const { OfflineResolver } = await import('../../src/did/resolver.js');
    const route = { did, kid: new OfflineResolver().keyAgreementKeys(did)[0]!.kid };
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 20; i++) {
      const f = await forwardTo(makeParty(), device.did, route, { i }, i % 2 ? 'compact' : 'json');
      expect((await post(i % 2 ? childA.url : childB.url, f.bytes)).status).toBe(202);
      sent.push(f.inner);
    }
    const got = await pickupAll(childB.url, device, did);
    expect(got.map((b) => Buffer.from(b).toString('hex')).sort()).toEqual(sent.map((b) => Buffer.from(b).toString('hex')).sort());
  }, 60_000);

  it.skipIf(!MQTT_URL)('two mediator child processes share the MQTT inbox ($share, MQTT_URL): every published forward is stored once', async () => {
    const schema = await freshSchema();
    const url = new URL(DATABASE_URL!);
    url.searchParams.set('schema', schema);
    const dirA = mkdtempSync(join(tmpdir(), 'med-qa-'));
    const dirB = mkdtempSync(join(tmpdir(), 'med-qb-'));
    cleanups.push(async () => {
      rmSync(dirA, { recursive: true, force: true });
      rmSync(dirB, { recursive: true, force: true });
    });
    const prefix = `c${process.pid}${Math.random().toString(36).slice(2, 8)}/didcomm/v1`;
    const childA = await startChild([dirA, url.toString(), MQTT_URL!, 'mediators', prefix]);
    cleanups.push(() => childA.stop());
    const { copyFileSync } = await import('node:fs');
    copyFileSync(join(dirA, 'mediator-secrets.json'), join(dirB, 'mediator-secrets.json'));
    const childB = await startChild([dirB, url.toString(), MQTT_URL!, 'mediators', prefix]);
    cleanups.push(() => childB.stop());
    const did = childA.did;
    const device = makeParty();
    await httpRequest(childA.url, device, did, C.mediateRequest(device.id(), device.did, did));
    await httpRequest(childA.url, device, did, C.keylistUpdate(device.id(), device.did, did, [{ recipientDid: device.did, action: 'add' }]));
    const { OfflineResolver } = await import('../../src/did/resolver.js');
    const { inboxIdForDid } = await import('../../transports/mqtt/topics.js');
    const route = { did, kid: new OfflineResolver().keyAgreementKeys(did)[0]!.kid };
    const sender = makeParty();
    const mq = await MqttTransport.connect({ url: MQTT_URL!, did: sender.did, topicPrefix: prefix, defaultTo: inboxIdForDid(did) });
    cleanups.push(() => mq.close());
    const sent: string[] = [];
    for (let i = 0; i < 30; i++) {
      const f = await forwardTo(sender, device.did, route, { i }, 'compact');
      sent.push(Buffer.from(f.inner).toString('hex'));
      await mq.send(f.bytes);
    }
    const got: string[] = [];
    await eventually(async () => {
      got.push(...(await pickupAll(childB.url, device, did)).map((b) => Buffer.from(b).toString('hex')));
      return got.length >= sent.length;
    }, 'all MQTT forwards stored', 20_000);
    expect(got.sort()).toEqual(sent.sort());
  }, 60_000);

  it.skipIf(!MQTT_URL)('MQTT $share (MQTT_URL): both instances take device traffic; live mode sees mail accepted by either', async () => {
    const { med, mediators } = await instances(2);
    const prefix = `t${process.pid}${Math.random().toString(36).slice(2, 8)}/didcomm/v1`;
    const handled = [0, 0];
    for (const [i, m] of mediators.entries()) {
      const orig = m.receive.bind(m);
      m.receive = async (f, s) => {
        handled[i]!++;
        return orig(f, s);
      };
      const l = await MediatorMqttListener.start(m, { url: MQTT_URL!, shareGroup: 'mediators', topicPrefix: prefix, clean: true, connections: 2 });
      cleanups.push(() => l.close());
    }
    const mediatorInbox = (await import('../../transports/mqtt/topics.js')).inboxIdForDid(med.did);
    const device = makeParty();
    const mq = await MqttTransport.connect({ url: MQTT_URL!, did: device.did, topicPrefix: prefix, defaultTo: mediatorInbox });
    cleanups.push(() => mq.close());
    const inbox: Message[] = [];
    mq.on('frame', (f) => void unpack(device.ctx, f).then((u) => inbox.push(u.message), () => undefined));
    const request = async (m: Message, type: string): Promise<Message> => {
      await mq.send(await packFor(device, med.did, m, 'compact', 'authcrypt'));
      await eventually(() => inbox.some((r) => r.thid === m.id && r.type === type), type);
      return inbox.find((r) => r.thid === m.id)!;
    };
    await request(C.mediateRequest(device.id(), device.did, med.did), C.MEDIATE_GRANT_TYPE);
    await request(C.keylistUpdate(device.id(), device.did, med.did, [{ recipientDid: device.did, action: 'add' }]), C.KEYLIST_UPDATE_RESPONSE_TYPE);
    await request(P.liveDeliveryChange(device.id(), device.did, med.did, true), P.STATUS_TYPE);

    const sender = makeParty();
    const senderMq = await MqttTransport.connect({ url: MQTT_URL!, did: sender.did, topicPrefix: prefix, defaultTo: mediatorInbox });
    cleanups.push(() => senderMq.close());
    const sent = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const f = await forwardTo(sender, device.did, { did: med.did, kid: kidOf(med) }, { i }, 'compact');
      sent.add(Buffer.from(f.inner).toString('hex'));
      await senderMq.send(f.bytes);
    }
    const live = new Set<string>();
    await eventually(() => {
      for (const m of inbox) if (m.type === P.DELIVERY_TYPE) for (const x of P.parseDelivery(m).messages) live.add(Buffer.from(x.bytes).toString('hex'));
      return live.size >= sent.size;
    }, 'live deliveries of all 40 forwards', 20_000);
    expect(live).toEqual(sent);
    expect(handled[0]).toBeGreaterThan(0);
    expect(handled[1]).toBeGreaterThan(0);
  }, 60_000);
});

describe.skipIf(!REDIS_URL)('scale-out on Redis (REDIS_URL)', () => {
  it('two in-process instances: accepted by one, live-pushed and picked up through the other', async () => {
    await liveAcrossInstances(await instances(2, 'redis'));
  });
});

describe.skipIf(DATABASE_URL)('scale-out', () => {
  it.skipIf(!DATABASE_URL)('needs DATABASE_URL (PostgreSQL) — and MQTT_URL for the $share part; REDIS_URL for Redis', () => undefined);
});
