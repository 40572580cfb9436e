import type { EvictLocalResult, Integrity } from '../../ports/blobs.js';
import { REGISTRY_PREFIX, type WorkerRecord } from '../../records.js';
import { getComponentVersion } from '../components/component-keys.js';
import type { NodeContext } from '../node-context.js';
import { componentVersionBlobs } from './component-blobs.js';

/**
 * Frees the node cache down to `budgetBytes`, keeping every blob of the component versions of
 * the workers placed on this node (their roots hardlink those files, and their next start
 * needs the modules). Everything else is a cache entry the cluster store still holds
 * (evictLocal never drops a blob the cluster lacks). Null in embedded mode.
 */
export async function evictNodeCache(ctx: NodeContext, budgetBytes: number): Promise<EvictLocalResult | null> {
  const cache = ctx.ports.nodeCache;
  if (!cache) return null;
  const keep = new Set<Integrity>();
  const seen = new Set<string>();
  for (const { value: w } of await ctx.ports.registry.list<WorkerRecord>(REGISTRY_PREFIX.worker)) {
    if (w.node !== ctx.nodeId || w.status === 'deleted') continue;
    const key = `${w.component}@${w.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const record = await getComponentVersion(ctx.ports.registry, w.component, w.version).catch(() => null);
    if (record) for (const i of await componentVersionBlobs(ctx, record)) keep.add(i);
  }
  const result = await cache.evictLocal({ keep, budgetBytes });
  if (result.evicted > 0) ctx.logger.info({ ...result, kept: keep.size }, 'evicted blobs from the node cache');
  return result;
}
