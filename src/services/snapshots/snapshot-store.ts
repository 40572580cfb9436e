import type { Blobs } from '../../ports/blobs.js';
import type { SnapshotRecord } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import type { SnapshotBase } from '../workers/live-workers.js';

/** Pauses stay on the node (its own store); commits go to the cluster store. */
export function storeNameOf(kind: SnapshotRecord['kind']): SnapshotBase['store'] {
  return kind === 'pause' ? 'local' : 'cluster';
}

export function snapshotStore(ctx: NodeContext, store: SnapshotBase['store']): Blobs {
  return store === 'local' ? ctx.ports.localBlobs : ctx.ports.blobs;
}

/** True when both names are one store here (embedded: the local store is the cluster store). */
export function sameStore(ctx: NodeContext, a: SnapshotBase['store'], b: SnapshotBase['store']): boolean {
  return a === b || ctx.ports.blobs === ctx.ports.localBlobs;
}
