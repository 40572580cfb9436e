import { WarrenError, isWarrenError } from '../../errors.js';
import type { WorkerRecord } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { workerKey } from './worker-keys.js';

/**
 * Read-modify-write of `worker/<id>` with compare-and-set, retried on a concurrent write.
 * `change` returns the new record (or null to leave it as is). E_NOT_FOUND if it is gone.
 */
export async function updateWorkerRecord(
  ctx: NodeContext,
  id: string,
  change: (current: WorkerRecord) => WorkerRecord | null,
): Promise<WorkerRecord> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const entry = await ctx.ports.registry.get<WorkerRecord>(workerKey(id));
    if (!entry) throw new WarrenError('E_NOT_FOUND', `no worker ${id}`, { id });
    const next = change(entry.value);
    if (next === null) return entry.value;
    const written = { ...next, updatedAt: new Date().toISOString() };
    try {
      await ctx.ports.registry.compareAndSet(workerKey(id), written, entry.revision);
      return written;
    } catch (err) {
      if (!isWarrenError(err, 'E_CONFLICT')) throw err;
    }
  }
  throw new WarrenError('E_CONFLICT', `worker ${id} kept changing while being updated; retry`, { id });
}
