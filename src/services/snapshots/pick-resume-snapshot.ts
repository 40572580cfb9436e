import type { SnapshotRecord, WorkerRecord } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { getSnapshot } from './snapshot-keys.js';

/**
 * The snapshot a worker goes back to: its latest (pause or commit) if this node can read it,
 * else its latest commit. A pause lives in the store of the node that took it; in a cluster,
 * another node's pause is out of reach, so the worker resumes from its last commit. Snapshots of
 * another version (the worker was updated since) do not count: the new version starts fresh.
 */
export async function pickResumeSnapshot(ctx: NodeContext, record: WorkerRecord): Promise<SnapshotRecord | null> {
  const shared = ctx.ports.blobs === ctx.ports.localBlobs;
  for (const id of [record.lastSnapshot, record.lastCommit]) {
    if (!id) continue;
    const snap = await getSnapshot(ctx, id).catch(() => null);
    if (!snap || snap.component !== record.component || snap.version !== record.version) continue;
    if (snap.kind === 'pause' && snap.node !== ctx.nodeId && !shared) continue;
    return snap;
  }
  return null;
}
