import { WarrenError } from '../../errors.js';
import type { RecordedCall, SnapshotRecord, WorkerRecord, WorkerStatus } from '../../records.js';
import { withRecordedCall } from '../workers/idempotent-calls.js';
import type { NodeContext } from '../node-context.js';
import { updateWorkerRecord } from '../workers/update-worker-record.js';
import { snapshotKey } from './snapshot-keys.js';

export interface RecordSnapshotOptions {
  /** The worker's status once the snapshot is its latest. */
  status: WorkerStatus;
  /** False for a `data` commit of a paused worker: its pause stays the state to resume. */
  advanceLatest: boolean;
  /** A keyed call the snapshot makes durable (`on_call`): recorded in the same write as the pointer. */
  call?: { key: string; result: RecordedCall };
}

/**
 * Makes a stored snapshot real after its blobs: the immutable `snapshot/<id>` record (created:
 * compare-and-set on "absent") and the worker record's pointers (compare-and-set on its
 * revision), in one registry call (one transaction, one fsync, on the embedded registry). On
 * JetStream KV the two are written one after the other: a crash between them leaves a complete
 * record nobody points at yet. Either way the worker's latest snapshot is the old one or the new.
 */
export async function recordSnapshot(ctx: NodeContext, snap: SnapshotRecord, opts: RecordSnapshotOptions): Promise<WorkerRecord> {
  let gone = false;
  const worker = await updateWorkerRecord(
    ctx,
    snap.worker,
    (r) => {
      if (r.status === 'deleted') {
        gone = true;
        return null;
      }
      const next: WorkerRecord = {
        ...r,
        status: opts.status,
        lastSnapshot: opts.advanceLatest ? snap.id : r.lastSnapshot,
        lastCommit: snap.kind === 'commit' ? snap.id : r.lastCommit,
      };
      if (opts.call) next.calls = withRecordedCall(r.calls, opts.call.key, opts.call.result);
      delete next.error;
      return next;
    },
    // A retry after a conflict on JetStream finds the record written by the first attempt.
    async (attempt) => (attempt > 0 && (await ctx.ports.registry.get(snapshotKey(snap.id))) !== null ? [] : [{ key: snapshotKey(snap.id), value: snap, expected: 0 }]),
  );
  if (gone) throw new WarrenError('E_NOT_FOUND', `worker ${snap.worker} was deleted while its snapshot was taken`, { id: snap.worker });
  return worker;
}
