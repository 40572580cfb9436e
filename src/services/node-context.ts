import type { Logger } from 'pino';
import type { DataLayout } from '../config.js';
import type { Ports } from '../ports/open-ports.js';
import type { GuestPool } from '../runtime/guest-pool.js';
import type { ModuleCache } from '../precompile/module-cache.js';
import type { WarrenMetrics } from './warren-metrics.js';
import type { ComponentVersionCache } from './components/version-cache.js';
import type { ZipLimits } from '../manifest/zip-limits.js';

/** What every service of one node needs: its ports, its threads, its caches. Plain data. */
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
}
