import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { placeFileTree, writeRootTag } from '../../fsplace/index.js';
import type { ComponentVersionRecord } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { loadFileTree } from './load-file-tree.js';
import { readWorkerSettings } from './read-worker-settings.js';
import { versionTreeOf } from './version-tree.js';
import { volumeDir, workerPaths } from './worker-keys.js';

/**
 * Builds a worker's directory on this node from a component version. The root is an overlay's
 * upper layer: the worker's own files only (the version's read-write files, copied; then what
 * the guest writes). The read-only files are the version's one shared tree on the node
 * (version-tree.ts, placed here if this node has none yet), mounted under the root as its lower
 * layer (build-worker-mounts.ts), so a worker costs O(read-write files) whatever the version
 * holds. Then the root's tag (the version, and `overlay`: see fsplace's readRootTag) and a
 * directory per durable volume with its mount point. Used by create, fork, and by a cluster node
 * taking over a worker.
 */
export async function placeWorkerRoot(ctx: NodeContext, workerId: string, version: ComponentVersionRecord): Promise<void> {
  const { blobs } = ctx.ports;
  const paths = workerPaths(ctx, workerId);
  const tree = await loadFileTree(blobs, version.fileTree);
  await versionTreeOf(ctx, version);
  await placeFileTree({ blobs, tree: { version: 1, entries: tree.entries.filter((e) => e.mode === 'rw') }, root: paths.root, logger: ctx.logger });
  // Not fsynced: nor are the copies above; a create survives a SIGKILL, not a power loss (an
  // fsync here was most of a create's time on a loaded machine).
  await writeRootTag(paths.root, { version: version.version, overlay: true }, { durable: false });
  for (const v of readWorkerSettings(version).volumes) {
    await mkdir(volumeDir(paths, v.name), { recursive: true });
    // A mount point in the root makes the volume visible when the guest (or the file API) lists its parent.
    await mkdir(join(paths.root, v.mount.slice(1)), { recursive: true }).catch(() => undefined);
  }
}
