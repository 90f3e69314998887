/**
 * MQTT link for DIDComm frames (mqtt.js 5; MQTT v5 OASIS standard, 3.1.1 fallback for brokers such
 * as aedes that refuse v5 — reference/embedded.md §6). Topic scheme and the meaning of the link
 * address: transports/mqtt/topics.ts and README.md.
 *
 * - Every frame is one PUBLISH at QoS 1 to `<prefix>/inbox/<to>`; `send` resolves on PUBACK.
 * - This end subscribes its own inbox (or `$share/<group>/...` for mediator instances, MQTT v5
 *   §4.8.2), and is `online` once the SUBACK arrived.
 * - v5 properties: `contentType` (the DIDComm media type), `messageExpiryInterval` (reduced by the
 *   time a frame waited in the offline buffer), `responseTopic` (our inbox: the `from` address).
 * - Offline buffering: frames sent while offline wait in a bounded queue (send-queue.ts) and are
 *   published after reconnect; past the bound `send` rejects with ERR_STORE_FULL.
 * - Reconnect with exponential backoff on a Clock (backoff.ts); one mqtt.js client per connection
 *   attempt, so in-flight frames of a dropped connection are requeued by us, not by mqtt.js.
 * - Persistent sessions (`clean: false`, v5 `sessionExpiryInterval`) let the broker queue QoS 1
 *   frames for a device while it is away.
 */
import { connect, type IPublishPacket, type MqttClient } from 'mqtt';
import { randomBytes } from 'node:crypto';
import { err } from '../../src/errors.js';
import { abytes } from '../../src/util/bytes.js';
import { type Clock, type Timer, systemClock } from '../../src/util/clock.js';
import { Emitter } from '../../src/util/emitter.js';
import type { LinkAddress, Transport, TransportState } from '../types.js';
import { sniffMediaType } from '../http/media-types.js';
import { ReconnectScheduler, backoffPolicy } from './backoff.js';
import { BoundedSendQueue } from './send-queue.js';
import {
  DEFAULT_MQTT_MTU, type MqttMessageInfo, type MqttSendOptions, type MqttTransportEvents, type MqttTransportOptions,
  PACKET_OVERHEAD, type PendingSend, REASON_CODES, UNSUPPORTED_PROTOCOL, mqttClientOptions, positiveInt, reasonCodeOf,
} from './options.js';
import {
  DEFAULT_TOPIC_PREFIX, assertInboxId, assertTopicPrefix, inboxIdForDid, inboxTopic,
  parseInboxTopic, sharedInboxFilter,
} from './topics.js';

export class MqttTransport extends Emitter<MqttTransportEvents> implements Transport {
  readonly kind = 'mqtt';
  readonly mtu: number;
  /** This end's inbox id (undefined for a send-only client). */
  readonly address: LinkAddress | undefined;
  readonly topicPrefix: string;
  private readonly options: MqttTransportOptions;
  private readonly clock: Clock;
  private readonly queue: BoundedSendQueue<PendingSend>;
  private readonly reconnector: ReconnectScheduler;
  private readonly clientId: string;
  private readonly maxInflight: number;
  private version: 4 | 5;
  private current: TransportState = 'offline';
  private client: MqttClient | undefined;
  private generation = 0;
  private serverInflight = Infinity;
  private serverMaxPacket = Infinity;
  private closing: Promise<void> | undefined;
  private retryAt311 = false;

  constructor(options: MqttTransportOptions) {
    super();
    let url: URL | undefined;
    try {
      url = new URL(options?.url);
    } catch {
      url = undefined;
    }
    if (!url || !/^(mqtts?|wss?):$/.test(url.protocol) || url.hostname === '') {
      throw err('ERR_ARGUMENT', 'url: expected mqtt://, mqtts://, ws:// or wss:// with a host');
    }
    this.options = { ...options };
    this.clock = options.clock ?? systemClock;
    this.topicPrefix = assertTopicPrefix(options.topicPrefix ?? DEFAULT_TOPIC_PREFIX);
    this.address =
      options.inboxId !== undefined ? assertInboxId(options.inboxId)
      : options.did !== undefined ? inboxIdForDid(options.did, { clear: options.clearDid ?? false, hash: options.hash })
      : undefined;
    if (options.defaultTo !== undefined) assertInboxId(options.defaultTo, 'defaultTo');
    this.version = options.protocolVersion ?? 5;
    if (this.version !== 4 && this.version !== 5) throw err('ERR_ARGUMENT', 'protocolVersion: expected 4 or 5');
    if (options.shareGroup !== undefined) {
      if (this.address === undefined) throw err('ERR_ARGUMENT', 'shareGroup: needs did or inboxId');
      sharedInboxFilter(this.address, options.shareGroup, this.topicPrefix); // validates
    }
    this.mtu = positiveInt(options.maxMessageSize, DEFAULT_MQTT_MTU, 'maxMessageSize');
    this.maxInflight = positiveInt(options.maxInflight, 16, 'maxInflight');
    this.queue = new BoundedSendQueue({
      maxFrames: options.offlineBuffer?.maxFrames ?? 100,
      maxBytes: options.offlineBuffer?.maxBytes ?? 1024 * 1024,
    });
    this.reconnector = new ReconnectScheduler(this.clock, backoffPolicy(options.reconnect), options.random);
    // 22 characters of [0-9a-z]: within what every 3.1.1 broker must accept (§3.1.3.1).
    this.clientId = options.clientId ?? `dc${randomBytes(10).toString('hex')}`;
    this.startAttempt();
  }

  /** Creates a transport and waits until it is online (connected and subscribed). */
  static async connect(options: MqttTransportOptions, timeoutMs = 10_000): Promise<MqttTransport> {
    const t = new MqttTransport(options);
    try {
      await t.whenOnline(timeoutMs);
    } catch (e) {
      await t.close();
      throw e;
    }
    return t;
  }

  get state(): TransportState {
    return this.current;
  }

  /** The MQTT version in use (4 after a fallback to 3.1.1). */
  get protocolVersion(): 4 | 5 {
    return this.version;
  }

  /** Frames and bytes held until acknowledged (offline buffer + in flight). */
  get buffered(): { frames: number; bytes: number; inflight: number } {
    return { frames: this.queue.frames, bytes: this.queue.bytes, inflight: this.queue.inflightCount };
  }

  /** Resolves when online; rejects with ERR_TIMEOUT after `timeoutMs` (on the clock), ERR_TRANSPORT on close. */
  whenOnline(timeoutMs = 10_000): Promise<void> {
    if (this.current === 'online') return Promise.resolve();
    if (this.current === 'closed') return Promise.reject(err('ERR_TRANSPORT', 'mqtt: closed'));
    return new Promise((resolve, reject) => {
      let timer: Timer | undefined;
      const off = this.on('state', (s) => {
        if (s === 'offline') return;
        off();
        timer?.cancel();
        if (s === 'online') resolve();
        else reject(err('ERR_TRANSPORT', 'mqtt: closed'));
      });
      timer = this.clock.setTimer(timeoutMs, () => {
        off();
        reject(err('ERR_TIMEOUT', `mqtt: not online after ${timeoutMs} ms`));
      });
    });
  }

  async send(frame: Uint8Array, to?: LinkAddress, options: MqttSendOptions = {}): Promise<void> {
    if (this.current === 'closed') throw err('ERR_TRANSPORT', 'mqtt: closed');
    abytes(frame, 'frame');
    if (frame.length > this.mtu) throw err('ERR_TOO_LARGE', `frame of ${frame.length} bytes exceeds mtu ${this.mtu}`);
    if (frame.length + PACKET_OVERHEAD > this.serverMaxPacket) {
      throw err('ERR_TOO_LARGE', `frame of ${frame.length} bytes exceeds the broker's maximum packet size`);
    }
    const dest = to ?? this.options.defaultTo;
    if (dest === undefined) throw err('ERR_ARGUMENT', 'to: an inbox id is required (no defaultTo configured)');
    const topic = inboxTopic(dest, this.topicPrefix);
    const ct = options.contentType ?? this.options.contentType;
    const contentType = ct === 'auto' ? (frame.length > 0 ? sniffMediaType(frame) : undefined) : ct;
    const expiry = options.messageExpiryInterval ?? this.options.messageExpiryInterval;
    if (expiry !== undefined && (!Number.isInteger(expiry) || expiry <= 0 || expiry > 0xffffffff)) {
      throw err('ERR_ARGUMENT', 'messageExpiryInterval: expected a positive integer of seconds');
    }
    return new Promise<void>((resolve, reject) => {
      const item: PendingSend = {
        size: frame.length, frame: new Uint8Array(frame), topic, contentType, resolve, reject, generation: -1,
        expiresAt: expiry === undefined ? undefined : this.clock.now() + expiry * 1000,
      };
      this.queue.enqueue(item); // throws ERR_STORE_FULL -> rejects this promise
      this.pump();
    });
  }

  sendDelay(_size: number): number {
    return 0;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.reconnector.cancel();
    this.generation++;
    const graceful = this.current === 'online' && this.queue.inflightCount === 0;
    for (const item of this.queue.drain()) item.reject(err('ERR_TRANSPORT', 'mqtt: closed'));
    const client = this.client;
    this.client = undefined;
    this.setState('closed');
    if (client && !client.stream?.destroyed) {
      // Graceful DISCONNECT when nothing is pending (mqtt.js would otherwise wait for the PUBACKs);
      // a broker that does not close its side within 2 s gets the socket destroyed.
      const safety = this.clock.setTimer(2_000, () => client.stream?.destroy());
      await new Promise<void>((resolve) => client.end(!(graceful && client.connected), {}, () => resolve()));
      safety.cancel();
    } else {
      client?.end(true);
    }
  }

  private setState(next: TransportState): void {
    if (this.current === next || this.current === 'closed') return;
    this.current = next;
    this.emit('state', next);
  }

  private startAttempt(): void {
    if (this.current === 'closed') return;
    const generation = ++this.generation;
    let client: MqttClient;
    try {
      client = connect(this.options.url, mqttClientOptions(this.options, this.version, this.clientId, this.mtu));
    } catch (e) {
      this.emit('error', err('ERR_TRANSPORT', `mqtt: cannot connect: ${String(e)}`, { cause: e }));
      this.reconnector.schedule(() => this.startAttempt());
      return;
    }
    this.client = client;
    client.on('connect', (connack) => {
      if (generation === this.generation) this.onConnected(client, generation, connack.properties);
    });
    client.on('message', (topic, payload, packet) => {
      if (generation === this.generation) this.onInbound(topic, payload, packet);
    });
    client.on('error', (e) => {
      if (generation !== this.generation) return;
      const rc = reasonCodeOf(e);
      if (this.version === 5 && this.options.fallbackToV311 && rc !== undefined && UNSUPPORTED_PROTOCOL.has(rc)) {
        this.version = 4;
        this.retryAt311 = true;
        return;
      }
      this.emit('error', err('ERR_TRANSPORT', `mqtt: ${e.message}`, { cause: e }));
    });
    client.on('close', () => {
      if (generation === this.generation) this.onConnectionLost(client);
    });
  }

  private onConnected(client: MqttClient, generation: number, props: { receiveMaximum?: number; maximumPacketSize?: number } | undefined): void {
    this.reconnector.reset();
    this.serverInflight = props?.receiveMaximum ?? Infinity;
    this.serverMaxPacket = props?.maximumPacketSize ?? Infinity;
    if (this.address === undefined) {
      this.setState('online');
      this.pump();
      return;
    }
    const filter = this.options.shareGroup !== undefined
      ? sharedInboxFilter(this.address, this.options.shareGroup, this.topicPrefix)
      : inboxTopic(this.address, this.topicPrefix);
    client.subscribe(filter, { qos: 1 }, (e, granted) => {
      if (generation !== this.generation) return;
      if (e || !granted || granted.some((g) => g.qos === 128)) {
        // Refused subscription: say so, but stay usable for sending.
        this.emit('error', err('ERR_REFUSED', `mqtt: subscription to ${filter} refused`, { cause: e ?? undefined }));
      }
      this.setState('online');
      this.pump();
    });
  }

  private onConnectionLost(client: MqttClient): void {
    client.end(true);
    this.client = undefined;
    this.generation++; // late callbacks of this client are ignored from now on
    this.queue.requeueInflight();
    this.setState('offline');
    const retryNow = this.retryAt311;
    this.retryAt311 = false;
    this.reconnector.schedule(() => this.startAttempt(), retryNow ? 0 : undefined);
  }

  private pump(): void {
    const client = this.client;
    if (this.current !== 'online' || !client) return;
    const window = Math.min(this.maxInflight, this.serverInflight);
    while (this.queue.inflightCount < window) {
      const item = this.queue.next();
      if (!item) return;
      const left = item.expiresAt === undefined ? undefined : Math.ceil((item.expiresAt - this.clock.now()) / 1000);
      if (left !== undefined && left <= 0) {
        this.queue.complete(item);
        item.reject(err('ERR_EXPIRED', 'mqtt: frame expired in the offline buffer'));
        continue;
      }
      let props: IPublishPacket['properties'];
      if (this.version === 5) {
        props = {};
        if (item.contentType !== undefined) props.contentType = item.contentType;
        if (this.address !== undefined) props.responseTopic = inboxTopic(this.address, this.topicPrefix);
        if (left !== undefined) props.messageExpiryInterval = left;
      }
      const generation = this.generation;
      item.generation = generation;
      const payload = Buffer.from(item.frame.buffer, item.frame.byteOffset, item.frame.length);
      client.publish(item.topic, payload, { qos: 1, properties: props }, (e) => this.onPublished(item, generation, e));
    }
  }

  private onPublished(item: PendingSend, generation: number, e: Error | undefined): void {
    if (item.generation !== generation || generation !== this.generation || !this.queue.isInflight(item)) return;
    const rc = reasonCodeOf(e);
    if (e && rc === undefined && this.client?.connected) {
      this.queue.complete(item);
      item.reject(err('ERR_TRANSPORT', `mqtt: publish failed: ${e.message}`, { cause: e }));
    } else if (e && rc !== undefined) {
      this.queue.complete(item);
      item.reject(err(REASON_CODES[rc] ?? 'ERR_TRANSPORT', `mqtt: broker refused the frame: ${e.message}`, { cause: e }));
    } else if (!e) {
      this.queue.complete(item);
      item.resolve();
    }
    // e without a reason code on a dropped connection: stays in flight, requeued on 'close'.
    this.pump();
  }

  private onInbound(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (payload.length > this.mtu) {
      this.emit('error', err('ERR_TOO_LARGE', `mqtt: dropped an inbound frame of ${payload.length} bytes (mtu ${this.mtu})`));
      return;
    }
    const frame = new Uint8Array(payload); // copy: mqtt.js may reuse the buffer
    const rt = packet.properties?.responseTopic;
    const from = typeof rt === 'string' ? parseInboxTopic(rt, this.topicPrefix) : undefined;
    const info: MqttMessageInfo = {
      topic,
      from,
      contentType: packet.properties?.contentType,
      messageExpiryInterval: packet.properties?.messageExpiryInterval,
    };
    this.emit('message', frame, info);
    this.emit('frame', frame, from);
  }
}
