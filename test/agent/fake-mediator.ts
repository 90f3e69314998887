/**
 * A minimal in-test mediator (the real one lives in src/mediator/, built in parallel): routing 2.0
 * forward (queue for registered recipients, pass on to known addresses), Coordinate Mediation 2.0
 * (grant or deny, keylist-update) and Message Pickup 3.0 (status, delivery, messages-received,
 * live mode on persistent links). Replies go back on the link they came from (return_route all).
 */
import { defaultCrypto } from '../../src/crypto/default.js';
import { sleep } from '../../src/util/clock.js';
import { SecretsStore } from '../../src/did/secrets.js';
import type { SecretsFile } from '../../src/did/create.js';
import { pack, unpack } from '../../src/envelope/index.js';
import { newMessageId } from '../../src/message/ids.js';
import type { Message } from '../../src/message/message.js';
import { parseForward, FORWARD_TYPE } from '../../src/routing/forward.js';
import * as cm from '../../src/protocols/coordinate-mediation.js';
import * as pu from '../../src/protocols/pickup.js';
import { problemReport } from '../../src/protocols/report-problem.js';
import type { MemoryHub, MemoryTransport } from '../../transports/memory.js';
import { resolverFor } from './helpers.js';

export interface FakeMediator {
  did: string;
  link: MemoryTransport;
  mailbox: Map<string, Array<{ id: string; bytes: Uint8Array }>>;
  keylist: Set<string>;
  deny: boolean;
  /** Lose the next N messages-received (the client will get those messages again). */
  ignoreReceived: number;
  /** Addresses with a persistent connection (live mode allowed). */
  persistent: Set<string>;
  live: Map<string, string>;
  log: string[];
}

export function fakeMediator(hub: MemoryHub, m: SecretsFile, known: SecretsFile[], routes: Record<string, string>): FakeMediator {
  const secrets = new SecretsStore();
  secrets.addFromJson(m);
  const ctx = { crypto: defaultCrypto, resolver: resolverFor(known), secrets };
  const link = hub.attach('m');
  const f: FakeMediator = { did: m.did, link, mailbox: new Map(), keylist: new Set(), deny: false, ignoreReceived: 0, persistent: new Set(), live: new Map(), log: [] };
  const id = () => newMessageId(defaultCrypto);
  // one frame at a time, each after the link's duty-cycle delay (like the agent's link queue)
  let chain: Promise<void> = Promise.resolve();
  const send = (bytes: Uint8Array, address: string | undefined): Promise<void> =>
    (chain = chain.then(async () => {
      for (let d = link.sendDelay(bytes.length); d > 0; d = link.sendDelay(bytes.length)) await sleep(hub.clock, d);
      await link.send(bytes, address);
    }));
  const reply = async (to: string, address: string | undefined, msg: Message, format: 'json' | 'compact') => {
    msg.created_time = Math.floor(hub.clock.now() / 1000);
    const r = await pack(ctx, msg, { mode: 'authcrypt', format, to: [to], from: m.did });
    await send(r.bytes, address);
  };
  const push = async (did: string) => {
    const address = f.live.get(did);
    const queue = f.mailbox.get(did) ?? [];
    if (!address || queue.length === 0) return;
    const dl = pu.delivery(id(), { id: id(), type: pu.DELIVERY_REQUEST_TYPE, from: did }, m.did, queue.slice(0, 10));
    delete dl.thid; // unsolicited
    await reply(did, address, dl, 'json');
  };
  link.on('frame', (frame, from) => {
    void (async () => {
      const r = await unpack(ctx, frame);
      const msg = r.message;
      const sender = msg.from;
      f.log.push(msg.type.split('/').pop()!);
      const fmt = r.meta.format;
      if (msg.type === FORWARD_TYPE) {
        const fw = parseForward(msg);
        const next = fw.next.split('#')[0]!;
        if (f.keylist.has(next)) {
          const q = f.mailbox.get(next) ?? [];
          q.push({ id: id(), bytes: fw.inner });
          f.mailbox.set(next, q);
          await push(next);
        } else if (routes[next]) await send(fw.inner, routes[next]);
        return;
      }
      if (!sender || !r.meta.authenticated) return;
      const queue = f.mailbox.get(sender) ?? [];
      switch (msg.type) {
        case cm.MEDIATE_REQUEST_TYPE:
          return reply(sender, from, f.deny ? cm.mediateDeny(id(), msg, m.did) : cm.mediateGrant(id(), msg, m.did, m.did), fmt);
        case cm.KEYLIST_UPDATE_TYPE: {
          const updated = cm.parseKeylistUpdate(msg).map((u) => {
            if (u.action === 'add') f.keylist.add(u.recipientDid);
            else f.keylist.delete(u.recipientDid);
            return { ...u, result: 'success' as const };
          });
          return reply(sender, from, cm.keylistUpdateResponse(id(), msg, m.did, updated), fmt);
        }
        case pu.STATUS_REQUEST_TYPE:
          return reply(sender, from, pu.status(id(), msg, m.did, { messageCount: queue.length }), fmt);
        case pu.DELIVERY_REQUEST_TYPE: {
          const { limit } = pu.parseDeliveryRequest(msg);
          if (queue.length === 0) return reply(sender, from, pu.status(id(), msg, m.did, { messageCount: 0 }), fmt);
          return reply(sender, from, pu.delivery(id(), msg, m.did, queue.slice(0, limit)), fmt);
        }
        case pu.MESSAGES_RECEIVED_TYPE: {
          const ids = new Set(pu.parseMessagesReceived(msg));
          if (f.ignoreReceived > 0) f.ignoreReceived--;
          else f.mailbox.set(sender, queue.filter((x) => !ids.has(x.id)));
          return reply(sender, from, pu.status(id(), msg, m.did, { messageCount: (f.mailbox.get(sender) ?? []).length }), fmt);
        }
        case pu.LIVE_DELIVERY_CHANGE_TYPE: {
          const on = pu.parseLiveDeliveryChange(msg);
          if (on && !(from && f.persistent.has(from))) {
            return reply(sender, from, problemReport({ id: id(), code: pu.LIVE_MODE_NOT_SUPPORTED, pthid: msg.id, from: m.did, to: [sender] }), fmt);
          }
          if (on) f.live.set(sender, from!);
          else f.live.delete(sender);
          await reply(sender, from, pu.status(id(), msg, m.did, { messageCount: queue.length, liveDelivery: on }), fmt);
          return push(sender);
        }
      }
    })();
  });
  return f;
}
