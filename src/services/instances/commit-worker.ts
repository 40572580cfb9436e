import type { SnapshotRecord, WorkerRecord } from '../../records.js';
import { getComponentVersion } from '../components/component-keys.js';
import type { NodeContext } from '../node-context.js';
import { getWorker } from '../workers/get-worker.js';
import { ensureLiveInstance } from './ensure-live-instance.js';
import { recordSnapshot } from '../snapshots/record-snapshot.js';
import { setWorkerStatus } from '../snapshots/set-worker-status.js';
import { readSnapshotSettings } from '../snapshots/snapshot-settings.js';
import { adoptSnapshot, takeSnapshot, type SnapshotStats } from './take-snapshot.js';

export interface CommitWorkerResult {
  worker: WorkerRecord;
  snapshot: SnapshotRecord;
  stats: SnapshotStats;
}

/**
 * `→ committing →`, after the calls queued before it: a snapshot of the manifest's `on_commit`
 * scope into the cluster store, recorded as the worker's last commit (immutable, forkable, the
 * state a failover resumes from). The instance stays live. A `full` commit of a paused worker
 * resumes it first (its pages come from the pause: only missing ones are copied); a `data`
 * commit needs no instance, and a paused worker stays paused with its pause as its latest.
 */
export function commitWorker(ctx: NodeContext, workerId: string): Promise<CommitWorkerResult> {
  return ctx.live.enqueue(workerId, () => commitNow(ctx, workerId));
}

async function commitNow(ctx: NodeContext, workerId: string): Promise<CommitWorkerResult> {
  const live = ctx.live;
  const record = await getWorker(ctx, workerId);
  const version = await getComponentVersion(ctx.ports.registry, record.component, record.version);
  const scope = readSnapshotSettings(version).on_commit;
  const before = record.status;
  await setWorkerStatus(ctx, workerId, 'committing');
  try {
    const inst = scope === 'full' ? (await ensureLiveInstance(ctx, record)).inst : live.get(workerId);
    const taken = await takeSnapshot(ctx, { record, version, scope, kind: 'commit', inst });
    const stayPaused = before === 'paused' && !live.get(workerId);
    const worker = await recordSnapshot(ctx, taken.snapshot, { status: stayPaused ? 'paused' : 'idle', advanceLatest: !stayPaused });
    if (inst) adoptSnapshot(inst, taken);
    ctx.logger.info({ worker: workerId, snapshot: taken.snapshot.id, scope, ...taken.stats }, 'worker committed');
    return { worker, snapshot: taken.snapshot, stats: taken.stats };
  } catch (err) {
    const back = before === 'paused' && !live.get(workerId) ? 'paused' : before === 'failed' ? 'failed' : 'idle';
    await setWorkerStatus(ctx, workerId, back).catch(() => undefined);
    throw err;
  }
}
