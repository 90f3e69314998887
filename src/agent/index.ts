/**
 * The agent runtime (DESIGN.md §2 agent/): dispatch by type, protocol handlers, persistent outbox
 * with retry/backoff/expiry, acks, replay guard, per-peer routing, sync by radio. See agent.ts
 * and docs/protocols.md.
 */
export { Agent, type SyncResult } from './agent.js';
export { createBackoff, type Backoff } from './backoff.js';
export { errorForProblem, piuris } from './builtin.js';
export { Outbox, type OutboxRecord, type OutboxStats } from './outbox.js';
export { Dedupe, sentCount, type DedupeVerdict } from './dedupe.js';
export { LinkQueue, type LinkQueueStats } from './link-queue.js';
export type { SendPlan, PeerState } from './peers.js';
export type { PickupOptions, PickupResult } from './sync.js';
export type * from './types.js';
