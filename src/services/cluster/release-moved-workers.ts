import { readdir } from 'node:fs/promises';
import { removeWorkerDir } from '../../fsplace/index.js';
import type { WorkerRecord } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { workerKey, workerPaths } from '../workers/worker-keys.js';

/**
 * Lets go of workers this node still holds files (and maybe an instance) of but whose record
 * now names another node: it was claimed while this node looked dead (a network or NATS outage
 * longer than the dead-after time). Calls already follow the record; this frees the thread and
 * the disk. Directories without a record are a create in progress (or a crash: the workers
 * service's recovery handles those) and are left alone, as are workers being adopted here.
 */
export async function releaseMovedWorkers(ctx: NodeContext, adopting: ReadonlySet<string>): Promise<string[]> {
  const released: string[] = [];
  const dirs = await readdir(ctx.layout.workers, { withFileTypes: true }).catch(() => []);
  for (const d of dirs) {
    if (!d.isDirectory() || adopting.has(d.name)) continue;
    const entry = await ctx.ports.registry.get<WorkerRecord>(workerKey(d.name));
    if (!entry || entry.value.node === ctx.nodeId || entry.value.status === 'deleted') continue;
    const live = ctx.live;
    await live.enqueue(d.name, async () => {
      const again = await ctx.ports.registry.get<WorkerRecord>(workerKey(d.name));
      if (!again || again.value.node === ctx.nodeId) return;
      await live.stop(d.name);
      ctx.metrics.liveWorkers.set(live.size);
      await removeWorkerDir(workerPaths(ctx, d.name).dir);
      released.push(d.name);
    });
  }
  if (released.length) ctx.logger.warn({ released }, 'released workers that another node claimed');
  return released;
}
