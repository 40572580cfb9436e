import { WarrenError, isWarrenError } from '../../errors.js';
import type { RegistryWrite } from '../../ports/registry.js';
import type { WorkerRecord } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { workerKey } from './worker-keys.js';

/**
 * Read-modify-write of `worker/<id>` with compare-and-set, retried on a concurrent write.
 * `change` returns the new record (or null to leave it as is). E_NOT_FOUND if it is gone.
 * `writesBefore` (given each attempt's number) adds writes made in the same registry call, ahead
 * of the worker's (see Registry.compareAndSetEach); only a conflict on the worker is retried.
 */
export async function updateWorkerRecord(
  ctx: NodeContext,
  id: string,
  change: (current: WorkerRecord) => WorkerRecord | null,
  writesBefore?: (attempt: number) => Promise<RegistryWrite[]>,
): Promise<WorkerRecord> {
  const key = workerKey(id);
  for (let attempt = 0; attempt < 20; attempt++) {
    const entry = await ctx.ports.registry.get<WorkerRecord>(key);
    if (!entry) throw new WarrenError('E_NOT_FOUND', `no worker ${id}`, { id });
    const next = change(entry.value);
    if (next === null) return entry.value;
    const written = { ...next, updatedAt: new Date().toISOString() };
    const writes = [...((await writesBefore?.(attempt)) ?? []), { key, value: written, expected: entry.revision }];
    try {
      await ctx.ports.registry.compareAndSetEach(writes);
      return written;
    } catch (err) {
      if (!isWarrenError(err, 'E_CONFLICT') || err.details.key !== key) throw err;
    }
  }
  throw new WarrenError('E_CONFLICT', `worker ${id} kept changing while being updated; retry`, { id });
}
