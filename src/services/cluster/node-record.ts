import { WarrenError } from '../../errors.js';
import { REGISTRY_PREFIX } from '../../records.js';

/** `node/<id>`: a cluster member's heartbeat, rewritten every `heartbeatMs`. */
export interface NodeRecord {
  id: string;
  /** The node's HTTP address; empty until the API listens. */
  url: string;
  /** Wall time of the writing node, for people to read: its clock may be off ours (see NodeLiveness). */
  startedAt: string;
  heartbeatAt: string;
  /** Worker instances alive in this node's threads. */
  liveWorkers: number;
  /** Job requests being run by this node right now. */
  jobsRunning: number;
  /** Resident set size of the node's process, bytes. */
  memory: number;
  /** Bytes in the node's local blob cache at its last eviction pass (absent before the first). */
  cacheBytes?: number;
  /** The budget eviction keeps the cache to (`serve --cache-budget`). */
  cacheBudgetBytes?: number;
}

/** A node as a monitor sees it: its last heartbeat and whether that changed recently enough. */
export interface NodeStatus extends NodeRecord {
  alive: boolean;
  /** How long ago (by this machine's monotonic clock) this machine saw the heartbeat record change. */
  heartbeatAgeMs: number;
}

export function nodeKey(id: string): string {
  return `${REGISTRY_PREFIX.node}${id}`;
}

/** Node ids go into NATS subjects (`warren.node.<id>.http`): no dots, wildcards or spaces. */
export function validateNodeId(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
    throw new WarrenError('E_BAD_REQUEST', `node id ${JSON.stringify(id)} must be 1-64 characters of [A-Za-z0-9_-] (it is part of NATS subjects)`, { nodeId: id });
  }
  return id;
}

