import { systemClock, type ClusterClock } from './cluster-clock.js';

/** How one cluster member behaves. Every field has a production default; tests shrink the times. */
export interface ClusterOptions {
  /** How often `node/<id>` is rewritten. */
  heartbeatMs: number;
  /** A node whose heartbeat is older than this is dead: its workers are claimed by the others. */
  deadAfterMs: number;
  /** How often the failover monitor looks for dead nodes. */
  monitorMs: number;
  /** Local blob cache budget; `evictLocal` runs every `evictEveryMs` down to it. */
  cacheBudgetBytes: number;
  evictEveryMs: number;
  /** How long a forwarded worker call retries while its node is dead or being claimed. */
  forwardRetryMs: number;
  /** How long one forwarded request may take before the origin stops waiting. */
  forwardTimeoutMs: number;
  /**
   * Largest request body forwarded over the bus. NATS' max_payload (1 MiB by default) bounds a
   * message, and bodies travel base64 (+1/3) next to headers: 700 KiB leaves room for both.
   */
  forwardBodyLimitBytes: number;
  /** Blobs fetched at once when prefetching a component version into the node cache. */
  prefetchConcurrency: number;
  /** The HTTP address other nodes and clients can reach this node at; default: the listen address. */
  advertiseUrl?: string;
  /** Where time comes from (tests inject skewed or hand-driven clocks). */
  clock: ClusterClock;
}

export const DEFAULT_CLUSTER_OPTIONS: ClusterOptions = {
  heartbeatMs: 1000,
  deadAfterMs: 5000,
  monitorMs: 1000,
  cacheBudgetBytes: 10 * 1024 ** 3,
  evictEveryMs: 60_000,
  forwardRetryMs: 30_000,
  forwardTimeoutMs: 120_000,
  forwardBodyLimitBytes: 700 * 1024,
  prefetchConcurrency: 8,
  clock: systemClock,
};

export function resolveClusterOptions(partial: Partial<ClusterOptions> = {}): ClusterOptions {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<ClusterOptions>;
  const opts = { ...DEFAULT_CLUSTER_OPTIONS, ...defined };
  // A node that misses a couple of beats is not dead yet.
  if (opts.deadAfterMs < opts.heartbeatMs * 2) opts.deadAfterMs = opts.heartbeatMs * 2;
  return opts;
}
