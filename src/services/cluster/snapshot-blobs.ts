import type { Integrity } from '../../ports/blobs.js';
import { readFileTree } from '../../manifest/file-tree.js';
import { pageMapBlobs } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { readPageMap } from '../snapshots/read-page-map.js';
import { getSnapshot } from '../snapshots/snapshot-keys.js';

/**
 * Every blob a snapshot restores from: the page map and its packs, the guest state, the file
 * tree of its writable files and each file. Reading the page map and the file tree fetches
 * those two blobs.
 */
export async function snapshotBlobs(ctx: NodeContext, snapshotId: string): Promise<Set<Integrity>> {
  const { blobs } = ctx.ports;
  const snap = await getSnapshot(ctx, snapshotId);
  const out = new Set<Integrity>();
  if (snap.memory) {
    out.add(snap.memory);
    for (const d of pageMapBlobs(await readPageMap(blobs, snap.memory))) out.add(d);
  }
  if (snap.state) out.add(snap.state);
  if (snap.files) {
    out.add(snap.files);
    for (const e of (await readFileTree(blobs, snap.files)).entries) out.add(e.digest);
  }
  return out;
}
