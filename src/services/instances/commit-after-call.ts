import { WarrenError, isWarrenError } from '../../errors.js';
import type { SnapshotScope } from '../../manifest/manifest-types.js';
import type { ComponentVersionRecord, RecordedCall, SnapshotRecord, WorkerRecord } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import type { LiveInstance } from './live-workers.js';
import { recordSnapshot } from '../snapshots/record-snapshot.js';
import { adoptSnapshot, takeSnapshot } from './take-snapshot.js';

/**
 * `[snapshots] on_call`: right after a successful call, inside the worker's queue and before the
 * reply, a snapshot of `scope` is committed to the cluster store (the pack fsynced) and becomes
 * the worker's latest, with the call's idempotency key in the same record write. A failure here
 * is E_SNAPSHOT_FAILED: the call ran but is not acknowledged; the caller drops the instance, so
 * memory and root go back to the last durable point (durable dirs keep what the call wrote).
 */
export async function commitAfterCall(
  ctx: NodeContext,
  record: WorkerRecord,
  version: ComponentVersionRecord,
  scope: SnapshotScope,
  inst: LiveInstance,
  call?: { key: string; result: RecordedCall },
): Promise<SnapshotRecord> {
  try {
    const taken = await takeSnapshot(ctx, { record, version, scope, kind: 'commit', inst });
    await recordSnapshot(ctx, taken.snapshot, { status: 'idle', advanceLatest: true, call });
    adoptSnapshot(inst, taken);
    ctx.metrics.snapshotsOnCall.inc({ scope });
    return taken.snapshot;
  } catch (err) {
    if (isWarrenError(err, 'E_NOT_FOUND')) throw err;
    throw new WarrenError('E_SNAPSHOT_FAILED', `the call ran, but its on_call snapshot failed, so it is not acknowledged: ${err instanceof Error ? err.message : String(err)}`, {
      worker: record.id,
    });
  }
}
