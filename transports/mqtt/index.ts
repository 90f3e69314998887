/**
 * MQTT transport for DIDComm frames: the Transport implementation, the topic scheme and helpers.
 * See README.md in this directory for the topic scheme, QoS, offline buffering and `$share`.
 */
export { MqttTransport } from './mqtt-transport.js';
export { DEFAULT_MQTT_MTU } from './options.js';
export type { MqttMessageInfo, MqttSendOptions, MqttTransportEvents, MqttTransportOptions } from './options.js';
export {
  DEFAULT_TOPIC_PREFIX, assertDid, assertInboxId, base32Lower, inboxIdForDid, inboxTopic, parseInboxTopic,
  sharedInboxFilter,
} from './topics.js';
export type { HashFunction, InboxIdOptions } from './topics.js';
export { BoundedSendQueue } from './send-queue.js';
export type { QueueLimits } from './send-queue.js';
export { DEFAULT_BACKOFF, ReconnectScheduler, backoffDelay, backoffPolicy } from './backoff.js';
export type { BackoffPolicy } from './backoff.js';
