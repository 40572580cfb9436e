import type { WorkerRecord, WorkerStatus } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { updateWorkerRecord } from '../workers/update-worker-record.js';

/** A status change that never resurrects a worker deleted meanwhile; `error` only with `failed`. */
export function setWorkerStatus(ctx: NodeContext, workerId: string, status: WorkerStatus, error?: WorkerRecord['error']): Promise<WorkerRecord> {
  return updateWorkerRecord(ctx, workerId, (r) => {
    if (r.status === 'deleted') return null;
    const next: WorkerRecord = { ...r, status };
    if (error) next.error = error;
    else if (status !== 'failed') delete next.error;
    return next;
  });
}
