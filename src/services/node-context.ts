import type { Logger } from 'pino';
import type { DataLayout } from '../config.js';
import type { Ports } from '../ports/open-ports.js';
import type { GuestPool } from '../runtime/guest-pool.js';
import type { ModuleCache } from '../precompile/module-cache.js';
import type { WarrenMetrics } from './warren-metrics.js';
import type { ComponentVersionCache } from './components/version-cache.js';
import type { ZipLimits } from '../manifest/zip-limits.js';
import type { Integrity } from '../ports/blobs.js';
import type { FunctionSignature } from '../precompile/read-export-signatures.js';
import type { Linked } from './components/load-linked-modules.js';
import type { EvictionPolicy, EvictionReport } from './instances/evict-idle-workers.js';
import type { LiveWorkers } from './instances/live-workers.js';
import type { LiveAdmission } from './instances/admit-live-instance.js';
import type { RecoveryReport } from './workers/recover-workers.js';

/**
 * What every service of one node needs: its ports, its threads, its caches, and the state it
 * keeps in memory between requests. Built once, in WarrenNode.open; one per node (tests open
 * several in one process).
 */
export interface NodeContext {
  nodeId: string;
  layout: DataLayout;
  ports: Ports;
  pool: GuestPool;
  moduleCache: ModuleCache;
  /** Component version records for the job path (kept fresh by a registry watch). */
  versions: ComponentVersionCache;
  engineId: string;
  metrics: WarrenMetrics;
  logger: Logger;
  /** Defaults for guests: output cap per call. */
  maxOutputBytes: number;
  /** What a pushed component's files zip may hold (absolute sizes; `warren serve --zip-*`). */
  zipLimits: ZipLimits;
  /** The node's live worker instances and their call queues. */
  live: LiveWorkers;
  /** Linked module sets by version and memory limit (load-linked-modules): versions are immutable. */
  linkedModules: Map<string, Promise<Linked>>;
  /** Export signatures by module digest (export-signatures): modules are immutable. */
  exportSignatures: Map<Integrity, Promise<ReadonlyMap<string, FunctionSignature>>>;
  /** The one run of worker recovery after start (ensure-workers-recovered); null until asked. */
  recovery: Promise<RecoveryReport> | null;
  /** Idle eviction: the policy set by startIdleEviction (null: none), and the pass in flight. */
  eviction: { policy: EvictionPolicy | null; running: Promise<EvictionReport> | null };
  /** Starts counted against the live budgets before they run (admit-live-instance). */
  admission: LiveAdmission;
}
