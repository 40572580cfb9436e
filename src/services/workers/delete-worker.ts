import { removeWorkerDir } from '../../fsplace/index.js';
import type { WorkerRecord } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { getWorker } from './get-worker.js';
import { updateWorkerRecord } from './update-worker-record.js';
import { workerKey, workerNameKey, workerPaths } from './worker-keys.js';

/**
 * Deletes a worker after the calls queued before it: marks the record `deleted` (so a crash
 * part-way leaves a record recovery finishes, and GC no longer counts it as a root), stops its
 * instance, removes its directory, then its name and record. Its blobs stay until GC.
 */
export function deleteWorker(ctx: NodeContext, workerId: string): Promise<WorkerRecord> {
  const live = ctx.live;
  return live.enqueue(workerId, async () => {
    await getWorker(ctx, workerId);
    const record = await updateWorkerRecord(ctx, workerId, (r) => ({ ...r, status: 'deleted' }));
    await live.stop(workerId);
    live.forgetCalls(workerId);
    ctx.metrics.liveWorkers.set(live.size);
    await finishDelete(ctx, record);
    ctx.logger.info({ worker: workerId }, 'worker deleted');
    return record;
  });
}

/** The part after the `deleted` mark; recovery runs it again for a delete a crash interrupted. */
export async function finishDelete(ctx: NodeContext, record: WorkerRecord): Promise<void> {
  const { registry } = ctx.ports;
  await removeWorkerDir(workerPaths(ctx, record.id).dir);
  const nameKey = workerNameKey(record.namespace, record.name);
  const index = await registry.get<{ id: string }>(nameKey);
  if (index?.value.id === record.id) await registry.delete(nameKey, index.revision).catch(() => undefined);
  await registry.delete(workerKey(record.id));
}
