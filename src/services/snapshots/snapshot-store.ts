import type { Blobs } from '../../ports/blobs.js';
import type { PageMap, SnapshotRecord } from '../../records.js';
import type { NodeContext } from '../node-context.js';

/**
 * The page map of the last snapshot stored from (or restored into) an instance: the next
 * snapshot's thread sends only pages that differ from it, and its map points at this one's packs
 * for the others.
 */
export interface SnapshotBase {
  snapshot: string;
  /** Which store holds its packs: the node's own (`local`, pauses) or the cluster's (commits). */
  store: 'local' | 'cluster';
  map: PageMap;
}

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
