import type { WorkerRecord } from '../../records.js';
import { getComponentVersion } from '../components/component-keys.js';
import type { NodeContext } from '../node-context.js';
import { instanceRanSinceReset, markInstanceRan } from '../workers/instance-ran-marker.js';
import type { LiveInstance } from './live-workers.js';
import { startWorkerInstance } from './start-worker-instance.js';
import { pickResumeSnapshot } from '../snapshots/pick-resume-snapshot.js';
import { restoreInstance } from './restore-instance.js';
import { restoreRootBaseline } from '../workers/root-baseline.js';
import { admitLiveInstance } from './admit-live-instance.js';

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
 *
 * Memory and the root's writable files always come back from one point. When the last instance
 * was lost (trap, timeout, SIGKILL: see instance-ran-marker), the root goes back to the point
 * memory comes from: a `full` snapshot's files, or the worker's initial files (no snapshot, or a
 * `data` one, whose memory starts fresh). Durable dirs are left as they are then: they keep
 * every write of every call, as a disk does. A paused, forked or adopted worker has its files at
 * its snapshot already; resuming it puts back everything the snapshot has.
 */
export async function ensureLiveInstance(ctx: NodeContext, record: WorkerRecord): Promise<EnsuredInstance> {
  const live = ctx.live;
  const current = live.get(record.id);
  if (current && current.version === record.version) return { inst: current, how: 'live', snapshot: null };
  if (current) await live.stop(record.id);
  // Room under the live budgets first: the instance starts only once it fits.
  const admitted = await admitLiveInstance(ctx, record.id);
  try {
    return await bringBack(ctx, record);
  } finally {
    admitted.release();
  }
}

async function bringBack(ctx: NodeContext, record: WorkerRecord): Promise<EnsuredInstance> {
  const live = ctx.live;
  const snap = await pickResumeSnapshot(ctx, record);
  const lost = await instanceRanSinceReset(ctx, record.id);
  if (lost && snap?.scope !== 'full') {
    await restoreRootBaseline(ctx, record, await getComponentVersion(ctx.ports.registry, record.component, record.version));
  }
  if (!lost) await markInstanceRan(ctx, record.id);
  const inst = snap ? await restoreInstance(ctx, record, snap, { volumes: !lost }) : await startWorkerInstance(ctx, record);
  live.set(record.id, inst);
  ctx.metrics.liveWorkers.set(live.size);
  return { inst, how: snap ? 'resumed' : 'started', snapshot: snap?.id ?? null };
}
