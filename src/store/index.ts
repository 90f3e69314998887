/**
 * Stores (`didcomm-iot/store`, Node): the key-value store an agent keeps its outbox, replay
 * windows and pairwise sequence numbers in, and the mediator's mailbox and mediation stores —
 * memory, SQLite (embedded default), PostgreSQL and Redis behind one interface each, opened from a
 * URL (`memory:`, `sqlite:PATH`, `postgres://…`, `redis://…`). Contracts: src/store/README.md.
 */
export { openKvStore, openStores, parseStoreUrl, type OpenStoresOptions, type ParsedStoreUrl, type StoreBackend, type Stores } from './open.js';
export type { KvEntry, KvListOptions, KvOp, KvStore, KvStoreLimits, KvUsage } from './kv.js';
export { MemoryKvStore } from './kv-memory.js';
export { SqliteKvStore, type SqliteKvStoreOptions } from './kv-sqlite.js';
export { DEFAULT_MAILBOX_LIMITS, type MailboxEntry, type MailboxItem, type MailboxLimits, type MailboxStatus, type MailboxStore, type MailboxStoreOptions, type StoredMessage } from './mailbox.js';
export { MemoryMailboxStore } from './mailbox-memory.js';
export { SqliteMailboxStore, type SqliteMailboxStoreOptions } from './mailbox-sqlite.js';
export type { KeyUpdateResult, MediationGrant, MediationStore } from './mediation.js';
export { MemoryMediationStore } from './mediation-memory.js';
