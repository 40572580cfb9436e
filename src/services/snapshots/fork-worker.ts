import { WarrenError } from '../../errors.js';
import type { SnapshotRecord, WorkerRecord } from '../../records.js';
import { getComponentVersion } from '../components/component-keys.js';
import type { NodeContext } from '../node-context.js';
import { createWorker } from '../workers/create-worker.js';
import { getWorker } from '../workers/get-worker.js';
import { getSnapshot } from './snapshot-keys.js';
import { restoreWorkerFiles } from './snapshot-files.js';
import { snapshotStore, storeNameOf } from './snapshot-store.js';

export interface ForkWorkerInput {
  /** Name of the new worker (unique in the namespace). */
  name: string;
  /** A committed snapshot of the source worker; default: its last commit. */
  snapshot?: string;
  /** The API's namespace check for the new worker. */
  authorize?: (namespace: string) => void;
}

export interface ForkWorkerResult {
  worker: WorkerRecord;
  snapshot: SnapshotRecord;
}

/**
 * A new worker from a committed snapshot: same component version, env and args as the source,
 * its root placed fresh from the version's files, then the snapshot's files (durable dirs; for
 * `full` the writable tree) restored into it, all before its record exists. It starts `paused`
 * at that snapshot: its first call (or `resume`) restores memory and WASI state. From then on
 * the two workers diverge. Pauses are not forkable: they live on one node only.
 */
export async function forkWorker(ctx: NodeContext, sourceId: string, input: ForkWorkerInput): Promise<ForkWorkerResult> {
  const source = await getWorker(ctx, sourceId);
  const snapId = input.snapshot ?? source.lastCommit;
  if (!snapId) throw new WarrenError('E_SNAPSHOT_INVALID', `worker ${sourceId} has no committed snapshot to fork: commit it first`, { id: sourceId });
  const snap = await getSnapshot(ctx, snapId);
  if (snap.worker !== sourceId && snap.id !== source.lastCommit) {
    throw new WarrenError('E_NOT_FOUND', `worker ${sourceId} has no snapshot ${snapId}`, { id: sourceId, snapshot: snapId });
  }
  if (snap.kind !== 'commit') throw new WarrenError('E_SNAPSHOT_INVALID', `snapshot ${snapId} is a pause; only commits can be forked`, { snapshot: snapId });
  const version = await getComponentVersion(ctx.ports.registry, snap.component, snap.version);
  const store = snapshotStore(ctx, storeNameOf(snap.kind));
  const worker = await createWorker(ctx, {
    component: snap.component,
    version: snap.version,
    name: input.name,
    env: source.env,
    args: source.args,
    authorize: input.authorize,
    prepareFiles: async (id) => {
      if (snap.files) await restoreWorkerFiles(ctx, id, version, snap.scope, snap.files, store);
    },
    initial: { status: 'paused', lastSnapshot: snap.id, lastCommit: snap.id },
  });
  ctx.logger.info({ worker: worker.id, from: sourceId, snapshot: snap.id }, 'worker forked');
  return { worker, snapshot: snap };
}
