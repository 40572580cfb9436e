import { isWarrenError } from '../../errors.js';
import { removeWorkerDir } from '../../fsplace/index.js';
import type { RegistryEntry } from '../../ports/registry.js';
import type { WorkerRecord } from '../../records.js';
import { getComponentVersion } from '../components/component-keys.js';
import type { NodeContext } from '../node-context.js';
import { finishDelete } from '../workers/delete-worker.js';
import { placeWorkerRoot } from '../workers/place-worker-root.js';
import { updateWorkerRecord } from '../workers/update-worker-record.js';
import { workerKey, workerPaths } from '../workers/worker-keys.js';
import { prefetchComponent } from './prefetch-component.js';
import { resumeWorker } from '../instances/resume-worker.js';
import { snapshotBlobs } from './snapshot-blobs.js';

export type AdoptOutcome = 'adopted' | 'resumed' | 'deleted' | 'lost';

/**
 * Takes over a worker whose node died. Its files come first (the version's blobs prefetched into
 * this node's cache, the root placed from the file tree, one directory per volume); then one
 * compare-and-set on the revision the monitor read moves `node` to this node. Of several
 * survivors only one wins; the others remove what they placed ('lost'). Callers see the worker
 * on its old node until the record flips, so no call reaches a half-placed root.
 *
 * State: a worker with a commit is resumed from it (its blobs prefetched too; `resumed`), one
 * without restarts fresh from its files (`adopted`, status idle, the next call starts a new
 * instance). A pause kept on the dead node's disk, and anything since the last commit, is lost.
 */
export async function adoptWorker(ctx: NodeContext, entry: RegistryEntry<WorkerRecord>, prefetchConcurrency: number): Promise<AdoptOutcome> {
  const old = entry.value;
  const { registry, blobs } = ctx.ports;
  if (old.status === 'deleted') {
    // Its node died half-way through a delete: finish it here (removes the name and the record).
    await registry.compareAndSet(workerKey(old.id), { ...old, node: ctx.nodeId, updatedAt: new Date().toISOString() }, entry.revision);
    await finishDelete(ctx, { ...old, node: ctx.nodeId });
    return 'deleted';
  }
  const version = await getComponentVersion(registry, old.component, old.version);
  await prefetchComponent(ctx, version, prefetchConcurrency);
  const cache = ctx.ports.nodeCache;
  if (old.lastCommit && cache) await cache.prefetch(await snapshotBlobs(ctx, old.lastCommit), { concurrency: prefetchConcurrency });
  const paths = workerPaths(ctx, old.id);
  await removeWorkerDir(paths.dir); // left from an earlier stay of this worker here
  let flipped = false;
  try {
    await placeWorkerRoot(ctx, old.id, version);
    const next: WorkerRecord = {
      ...old,
      node: ctx.nodeId,
      // `paused` + lastSnapshot = the commit: resumeWorker restores it; without a commit it starts fresh.
      status: old.lastCommit ? 'paused' : 'idle',
      lastSnapshot: old.lastCommit,
      updatedAt: new Date().toISOString(),
    };
    delete next.error;
    await registry.compareAndSet(workerKey(old.id), next, entry.revision);
    flipped = true;
    if (old.lastCommit) {
      await resumeWorker(ctx, old.id);
      return 'resumed';
    }
    return 'adopted';
  } catch (err) {
    if (flipped) {
      // Ours now, but its commit would not restore: failed, so the API says why.
      const error = { code: isWarrenError(err) ? err.code : 'E_INTERNAL', message: `resume after failover: ${err instanceof Error ? err.message : String(err)}` };
      await updateWorkerRecord(ctx, old.id, (r) => (r.node === ctx.nodeId && r.status !== 'deleted' ? { ...r, status: 'failed', error } : null)).catch(() => undefined);
      throw err;
    }
    await removeWorkerDir(paths.dir);
    if (isWarrenError(err, 'E_CONFLICT')) return 'lost';
    throw err;
  }
}
