import type { SnapshotRecord, WorkerRecord } from '../../records.js';
import { getComponentVersion } from '../components/component-keys.js';
import type { NodeContext } from '../node-context.js';
import { getWorker } from '../workers/get-worker.js';
import { clearInstanceRan } from '../workers/instance-ran-marker.js';
import { recordSnapshot } from '../snapshots/record-snapshot.js';
import { setWorkerStatus } from '../snapshots/set-worker-status.js';
import { readSnapshotSettings } from '../snapshots/snapshot-settings.js';
import { takeSnapshot, type SnapshotStats } from './take-snapshot.js';

export interface PauseWorkerOptions {
  /** Idle eviction: leave the worker live if its instance ran after this time (ms since the epoch). */
  ifIdleSince?: number;
}

export interface PauseWorkerResult {
  worker: WorkerRecord;
  /** The pause snapshot taken; null when there was no live instance to keep (or it was paused already). */
  snapshot: SnapshotRecord | null;
  stats: SnapshotStats | null;
  /** False when nothing was done (already paused; or, for eviction, used since). */
  changed: boolean;
}

/**
 * `idle → pausing → paused`, after the calls queued before it: a snapshot of the manifest's
 * `on_pause` scope into the node's own store, recorded as the worker's latest, then the instance
 * and its thread (and with them its memory) are freed. A worker without a live instance has
 * nothing in memory to keep: it is only marked paused (it resumes from its last snapshot, or
 * fresh). If the snapshot fails, the worker stays live and `idle`.
 */
export function pauseWorker(ctx: NodeContext, workerId: string, opts: PauseWorkerOptions = {}): Promise<PauseWorkerResult> {
  return ctx.live.enqueue(workerId, () => pauseNow(ctx, workerId, opts));
}

async function pauseNow(ctx: NodeContext, workerId: string, opts: PauseWorkerOptions): Promise<PauseWorkerResult> {
  const live = ctx.live;
  const record = await getWorker(ctx, workerId);
  const inst = live.get(workerId);
  const unchanged = { worker: record, snapshot: null, stats: null, changed: false };
  if (opts.ifIdleSince !== undefined && (!inst || inst.lastUsed > opts.ifIdleSince)) return unchanged;
  if (record.status === 'paused' && !inst) return unchanged;
  if (!inst) return { worker: await setWorkerStatus(ctx, workerId, 'paused'), snapshot: null, stats: null, changed: true };

  const version = await getComponentVersion(ctx.ports.registry, record.component, record.version);
  const scope = readSnapshotSettings(version).on_pause;
  await setWorkerStatus(ctx, workerId, 'pausing');
  let worker: WorkerRecord;
  let taken: Awaited<ReturnType<typeof takeSnapshot>>;
  try {
    taken = await takeSnapshot(ctx, { record, version, scope, kind: 'pause', inst });
    worker = await recordSnapshot(ctx, taken.snapshot, { status: 'paused', advanceLatest: true });
  } catch (err) {
    await setWorkerStatus(ctx, workerId, 'idle').catch(() => undefined);
    throw err;
  }
  await live.stop(workerId);
  // Files and memory are both at the pause snapshot now: nothing to put back on resume but it.
  await clearInstanceRan(ctx, workerId);
  ctx.metrics.liveWorkers.set(live.size);
  ctx.logger.info({ worker: workerId, snapshot: taken.snapshot.id, scope, ...taken.stats }, 'worker paused');
  return { worker, snapshot: taken.snapshot, stats: taken.stats, changed: true };
}
