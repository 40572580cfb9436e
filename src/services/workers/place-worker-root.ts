import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { placeFileTree, writeRootTag } from '../../fsplace/index.js';
import type { ComponentVersionRecord } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { loadFileTree } from './load-file-tree.js';
import { readWorkerSettings } from './read-worker-settings.js';
import { volumeDir, workerPaths } from './worker-keys.js';

/**
 * Builds a worker's directory on this node from a component version: the root from the file
 * tree (read-only files hardlinked, read-write copied), its tag (the version the tree belongs
 * to, see fsplace's readRootTag), and a directory per durable volume with its mount point.
 * Used by create, and by a cluster node taking over a worker.
 */
export async function placeWorkerRoot(ctx: NodeContext, workerId: string, version: ComponentVersionRecord): Promise<void> {
  const { blobs } = ctx.ports;
  const paths = workerPaths(ctx, workerId);
  await placeFileTree({
    blobs,
    tree: await loadFileTree(blobs, version.fileTree),
    root: paths.root,
    onCopyFallback: () => ctx.metrics.placementCopyFallbacks.inc(),
    logger: ctx.logger,
  });
  await writeRootTag(paths.root, version.version);
  for (const v of readWorkerSettings(version).volumes) {
    await mkdir(volumeDir(paths, v.name), { recursive: true });
    // A mount point in the root makes the volume visible when the guest (or the file API) lists its parent.
    await mkdir(join(paths.root, v.mount.slice(1)), { recursive: true }).catch(() => undefined);
  }
}
