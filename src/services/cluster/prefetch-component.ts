import type { ComponentVersionRecord } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { componentVersionBlobs } from './component-blobs.js';

export interface PrefetchResult {
  blobs: number;
  fetched: number;
  bytes: number;
  ms: number;
}

/**
 * Brings every blob of a component version into this node's local store (the golden copy that
 * placement hardlinks from) before a worker is placed, `concurrency` downloads at a time. A
 * no-op in embedded mode, where the local store is the only store.
 */
export async function prefetchComponent(ctx: NodeContext, record: ComponentVersionRecord, concurrency: number): Promise<PrefetchResult> {
  const started = performance.now();
  const cache = ctx.ports.nodeCache;
  if (!cache) return { blobs: 0, fetched: 0, bytes: 0, ms: 0 };
  const blobs = await componentVersionBlobs(ctx, record);
  const { fetched, bytes } = await cache.prefetch(blobs, { concurrency });
  const ms = performance.now() - started;
  if (fetched > 0) ctx.logger.info({ component: `${record.fq}@${record.version}`, fetched, bytes, ms }, 'prefetched component into the node cache');
  return { blobs: blobs.size, fetched, bytes, ms };
}
