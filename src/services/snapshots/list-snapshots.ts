import type { SnapshotRecord } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { getWorker } from '../workers/get-worker.js';
import { getSnapshot, snapshotPrefixOf } from './snapshot-keys.js';

export interface SnapshotList {
  /** Committed snapshots, oldest first (a fork's first one is its source's commit). */
  snapshots: SnapshotRecord[];
  lastSnapshot: string | null;
  lastCommit: string | null;
}

/** A worker's committed snapshots; with `pauses`, its pause records too. */
export async function listSnapshots(ctx: NodeContext, workerId: string, opts: { pauses?: boolean } = {}): Promise<SnapshotList> {
  const worker = await getWorker(ctx, workerId);
  const own = (await ctx.ports.registry.list<SnapshotRecord>(snapshotPrefixOf(workerId))).map((e) => e.value);
  const byId = new Map(own.map((s) => [s.id, s]));
  for (const id of [worker.lastCommit, worker.lastSnapshot]) {
    if (id && !byId.has(id)) {
      const s = await getSnapshot(ctx, id).catch(() => null);
      if (s) byId.set(s.id, s);
    }
  }
  const snapshots = [...byId.values()]
    .filter((s) => s.kind === 'commit' || opts.pauses)
    .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
  return { snapshots, lastSnapshot: worker.lastSnapshot, lastCommit: worker.lastCommit };
}
