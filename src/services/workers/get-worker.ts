import { WarrenError } from '../../errors.js';
import type { WorkerRecord } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { workerKey } from './worker-keys.js';

/** A worker's record; a deleted (or half-deleted) worker is not found. */
export async function getWorker(ctx: NodeContext, id: string): Promise<WorkerRecord> {
  const entry = await ctx.ports.registry.get<WorkerRecord>(workerKey(id));
  if (!entry || entry.value.status === 'deleted') throw new WarrenError('E_NOT_FOUND', `no worker ${id}`, { id });
  return entry.value;
}
