/**
 * MQTT for the mediator, on the topic scheme of transports/mqtt (README.md there): every instance
 * subscribes the mediator's inbox — `$share/<group>/<prefix>/inbox/<mediator-inbox>` with MQTT v5
 * (the broker hands each frame to one instance: scale-out), or the plain inbox topic on 3.1.1 —
 * and answers by publishing to the sender's inbox (its v5 response topic, else the inbox of the
 * authenticated DID). Sessions are per sender inbox, duplex and persistent: live mode pushes
 * deliveries to the inbox (a device with a persistent broker session gets them later).
 *
 * **PUBACK only after durable**: this listener drives mqtt.js directly (not MqttTransport, which
 * acknowledges on receipt) and acknowledges a QoS 1 PUBLISH only once the mediator handled it —
 * for a forward, once it is stored. If the store fails (ERR_STORE) the frame is not acknowledged:
 * the connection is dropped and the broker redelivers it (persistent session, `clean: false`).
 * mqtt.js handles one inbound PUBLISH at a time per connection, so `connections` > 1 (v5 with a
 * share group) gives the instance several subscribers to work in parallel.
 */
import type { IClientOptions, IPublishPacket, MqttClient } from 'mqtt';
import { err } from '../errors.js';
import { inboxIdForDid, inboxTopic, parseInboxTopic, sharedInboxFilter, DEFAULT_TOPIC_PREFIX } from '../../transports/mqtt/topics.js';
import type { Mediator } from './service.js';
import type { Session } from './types.js';

export interface MediatorMqttOptions {
  url: string;
  topicPrefix?: string;
  /** MQTT v5 shared-subscription group (scale-out). Needs protocolVersion 5. */
  shareGroup?: string;
  protocolVersion?: 4 | 5;
  /** Inbox ids are DIDs in clear (default: hashed, as transports/mqtt does). */
  clearDid?: boolean;
  /** Parallel subscriber connections of this instance (share group only). Default 1. */
  connections?: number;
  /** Stable client id prefix (persistent sessions survive a restart). Default random. */
  clientId?: string;
  /** Persistent broker session (default false = persistent, so unacknowledged frames come back). */
  clean?: boolean;
  /** Largest frame accepted. Default: the mediator's max_receive_bytes. */
  maxMessageSize?: number;
  onError?: (e: unknown) => void;
}

const MAX_SESSIONS = 10_000;

export class MediatorMqttListener {
  private readonly clients: MqttClient[] = [];
  private readonly sessions = new Map<string, Session & { inbox: string | undefined }>();
  private readonly prefix: string;
  private readonly ownInbox: string;
  private readonly o: MediatorMqttOptions;
  private readonly mediator: Mediator;
  private closed = false;

  private constructor(mediator: Mediator, o: MediatorMqttOptions) {
    this.mediator = mediator;
    this.o = o;
    this.prefix = o.topicPrefix ?? DEFAULT_TOPIC_PREFIX;
    this.ownInbox = inboxIdForDid(mediator.did, { clear: o.clearDid ?? false });
  }

  /** Connects `connections` clients and subscribes; resolves once all are subscribed. */
  static async start(mediator: Mediator, o: MediatorMqttOptions): Promise<MediatorMqttListener> {
    const version = o.protocolVersion ?? 5;
    if (o.shareGroup !== undefined && version !== 5) throw err('ERR_ARGUMENT', 'mqtt: shared subscriptions need MQTT v5');
    const l = new MediatorMqttListener(mediator, o);
    const { connectAsync } = await import('mqtt');
    const n = o.shareGroup !== undefined ? Math.max(1, Math.min(o.connections ?? 1, 16)) : 1;
    const filter = o.shareGroup !== undefined ? sharedInboxFilter(l.ownInbox, o.shareGroup, l.prefix) : inboxTopic(l.ownInbox, l.prefix);
    const base = o.clientId ?? `dcm${Math.random().toString(36).slice(2, 12)}`;
    try {
      for (let i = 0; i < n; i++) {
        const opts: IClientOptions = {
          protocolVersion: version,
          clientId: `${base}-${i}`,
          clean: o.clean ?? false,
          reconnectPeriod: 1000,
          resubscribe: true,
          ...(version === 5 ? { properties: { sessionExpiryInterval: o.clean ? 0 : 3600, maximumPacketSize: (o.maxMessageSize ?? mediator.policy.maxReceiveBytes) + 8192 } } : {}),
        };
        const client = await connectAsync(o.url, opts);
        client.handleMessage = (packet, done) => l.onPublish(client, packet as IPublishPacket, done);
        client.on('error', (e) => o.onError?.(e));
        l.clients.push(client);
        await client.subscribeAsync(filter, { qos: 1 });
      }
    } catch (e) {
      await l.close();
      throw err('ERR_TRANSPORT', `mqtt: cannot start the mediator listener: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    return l;
  }

  /** The mediator's inbox id (devices publish to `<prefix>/inbox/<id>`). */
  get inbox(): string {
    return this.ownInbox;
  }

  private sessionFor(inbox: string | undefined): Session & { inbox: string | undefined } {
    const key = inbox ?? '';
    const hit = inbox !== undefined ? this.sessions.get(key) : undefined;
    if (hit) {
      this.sessions.delete(key);
      this.sessions.set(key, hit);
      return hit;
    }
    const s: Session & { inbox: string | undefined } = {
      inbox,
      get id() {
        return `mqtt:${s.inbox ?? 'anonymous'}`;
      },
      kind: 'mqtt',
      remote: `mqtt:${inbox ?? 'anonymous'}`,
      persistent: true,
      duplex: true,
      maxFrameBytes: this.o.maxMessageSize ?? this.mediator.policy.maxReceiveBytes,
      returnRoute: 'none',
      push: (frame) => this.publish(s.inbox, frame),
      onAuthenticated: (did) => {
        if (s.inbox === undefined) s.inbox = inboxIdForDid(did, { clear: this.o.clearDid ?? false });
      },
      isOpen: () => !this.closed,
    };
    if (inbox !== undefined) {
      if (this.sessions.size >= MAX_SESSIONS) {
        const [oldKey, old] = this.sessions.entries().next().value as [string, Session];
        this.sessions.delete(oldKey);
        this.mediator.live.disable(old);
      }
      this.sessions.set(key, s);
    }
    return s;
  }

  private onPublish(client: MqttClient, packet: IPublishPacket, done: (e?: Error) => void): void {
    const rt = packet.properties?.responseTopic;
    const inbox = typeof rt === 'string' ? parseInboxTopic(rt, this.prefix) : undefined;
    const payload = packet.payload;
    const frame = typeof payload === 'string' ? new TextEncoder().encode(payload) : new Uint8Array(payload.buffer, payload.byteOffset, payload.length).slice();
    const session = this.sessionFor(inbox);
    void this.mediator
      .receive(frame, session)
      .then(async (out) => {
        if (out.error?.code === 'ERR_STORE') {
          // not durable: no PUBACK; drop the connection so the broker delivers it again
          client.stream.destroy();
          return;
        }
        done();
        for (const r of out.replies) await this.publish(session.inbox, r).catch((e: unknown) => this.o.onError?.(e));
      })
      .catch((e: unknown) => {
        this.o.onError?.(e);
        done();
      });
  }

  private async publish(inbox: string | undefined, frame: Uint8Array): Promise<void> {
    if (inbox === undefined) throw err('ERR_TRANSPORT', 'mqtt: no inbox to answer to');
    const client = this.clients.find((c) => c.connected);
    if (!client || this.closed) throw err('ERR_TRANSPORT', 'mqtt: not connected');
    const v5 = (this.o.protocolVersion ?? 5) === 5;
    await client.publishAsync(inboxTopic(inbox, this.prefix), Buffer.from(frame.buffer, frame.byteOffset, frame.length), {
      qos: 1,
      ...(v5 ? { properties: { responseTopic: inboxTopic(this.ownInbox, this.prefix) } } : {}),
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sessions.values()) this.mediator.live.disable(s);
    this.sessions.clear();
    await Promise.all(this.clients.map((c) => c.endAsync(true).catch(() => undefined)));
  }
}
