import type { WorkerRecord } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { liveWorkersOf, type LiveInstance } from '../workers/live-workers.js';
import { startWorkerInstance } from '../workers/start-worker-instance.js';
import { pickResumeSnapshot } from './pick-resume-snapshot.js';
import { restoreInstance } from './restore-instance.js';

export interface EnsuredInstance {
  inst: LiveInstance;
  /** `live`: it was running; `resumed`: restored from `snapshot`; `started`: a fresh instance. */
  how: 'live' | 'resumed' | 'started';
  snapshot: string | null;
}

/**
 * The worker's live instance, or one brought back: from its last snapshot when it has one (a
 * pause, a commit, or a node restart or lost thread since), else a fresh start from its files.
 * Runs inside the worker's queue.
 */
export async function ensureLiveInstance(ctx: NodeContext, record: WorkerRecord): Promise<EnsuredInstance> {
  const live = liveWorkersOf(ctx);
  const current = live.get(record.id);
  if (current && current.version === record.version) return { inst: current, how: 'live', snapshot: null };
  if (current) await live.stop(record.id);
  const snap = await pickResumeSnapshot(ctx, record);
  const inst = snap ? await restoreInstance(ctx, record, snap) : await startWorkerInstance(ctx, record);
  live.set(record.id, inst);
  ctx.metrics.liveWorkers.set(live.size);
  return { inst, how: snap ? 'resumed' : 'started', snapshot: snap?.id ?? null };
}
