/**
 * The mediator (DESIGN §6, docs/mediator.md): routing 2.0, coordinate-mediation 2.0, pickup 3.0
 * (live mode), trust ping, discover features, problem reports — both wire formats — on durable
 * mailbox stores, with HTTP, WebSocket, MQTT and radio listeners. Node only.
 *
 *   const stores = await openMediatorStores('sqlite:./data/mailbox.db', { dataDir: './data' });
 *   const mediator = await Mediator.create({ did, ctx, stores });
 *   const http = await HttpListener.listen({ port: 8080, onRequest: mediatorHttpHook(mediator) });
 *
 * or the whole server from a config: `startMediatorServer(parseMediatorConfig(json, dataDir))`.
 */
export { Mediator, type MediatorOptions } from './service.js';
export {
  DEFAULT_POLICY,
  type GrantPolicy,
  type InboundOutcome,
  type MediatorPolicy,
  type MediatorStores,
  type RateLimit,
  type ReplyMode,
  type Session,
  type SessionKind,
  type UnknownRecipientPolicy,
} from './types.js';
export { openMediatorStores, type OpenMediatorStoresOptions } from './stores.js';
export { mediatorHttpHook, type HttpReplyLike, type HttpRequestInfoLike } from './listen-http.js';
export { attachWsListener, type WsListenerLike } from './listen-ws.js';
export { MediatorMqttListener, type MediatorMqttOptions } from './listen-mqtt.js';
export { RadioGateway, type RadioGatewayOptions, type RadioGatewayStats } from './radio-gateway.js';
export { ALWAYS_LISTENING, awakeUntil, nextWindowStart, scheduledWindowEnd, type WakeSchedule } from './wake.js';
export { TokenBucketLimiter } from './rate-limit.js';
export { LiveDelivery } from './live.js';
export { features } from './handle-basic.js';
export { mediatorInvitation, OOB_INVITATION_TYPE, type Invitation } from './invitation.js';
export { parseMediatorConfig, type MediatorConfig, type RadioConfig } from './config.js';
export { startMediatorServer, loadOrCreateSecrets, envelopeContextFor, type MediatorServer, type StartOptions } from './node-server.js';
