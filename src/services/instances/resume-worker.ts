import { isWarrenError } from '../../errors.js';
import type { WorkerRecord } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { getWorker } from '../workers/get-worker.js';
import { ensureLiveInstance, type EnsuredInstance } from './ensure-live-instance.js';
import { setWorkerStatus } from '../snapshots/set-worker-status.js';

export interface ResumeWorkerResult {
  worker: WorkerRecord;
  /** False when the worker was live already. */
  resumed: boolean;
  how: EnsuredInstance['how'];
  /** The snapshot restored, or null (live already, or started fresh: no snapshot to go back to). */
  snapshot: string | null;
}

/**
 * `paused → resuming → idle`, after the calls queued before it: the latest snapshot this node
 * can read (pause, else commit) is restored into a live instance. A live worker is left as is.
 * Also what a failover calls on the node that adopted a worker (its record already `paused`,
 * `lastSnapshot` set to its last commit). A failed restore leaves the worker `failed` with the
 * reason; the next call tries again.
 */
export function resumeWorker(ctx: NodeContext, workerId: string): Promise<ResumeWorkerResult> {
  return ctx.live.enqueue(workerId, () => resumeNow(ctx, workerId));
}

async function resumeNow(ctx: NodeContext, workerId: string): Promise<ResumeWorkerResult> {
  const record = await getWorker(ctx, workerId);
  const current = ctx.live.get(workerId);
  if (current && current.version === record.version && record.status !== 'paused') {
    return { worker: record, resumed: false, how: 'live', snapshot: null };
  }
  await setWorkerStatus(ctx, workerId, 'resuming');
  try {
    const ensured = await ensureLiveInstance(ctx, record);
    const worker = await setWorkerStatus(ctx, workerId, 'idle');
    ctx.logger.info({ worker: workerId, how: ensured.how, snapshot: ensured.snapshot }, 'worker resumed');
    return { worker, resumed: ensured.how !== 'live', how: ensured.how, snapshot: ensured.snapshot };
  } catch (err) {
    // No room under the live budget now: the worker stays as it was, to be resumed later.
    if (isWarrenError(err) && err.code === 'E_BUSY') {
      await setWorkerStatus(ctx, workerId, record.status).catch(() => undefined);
      throw err;
    }
    const error = { code: isWarrenError(err) ? err.code : 'E_INTERNAL', message: `resume: ${err instanceof Error ? err.message : String(err)}` };
    await setWorkerStatus(ctx, workerId, 'failed', error).catch(() => undefined);
    throw err;
  }
}
