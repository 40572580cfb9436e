import type { WorkerRecord } from '../../records.js';
import { getComponentVersion } from '../components/component-keys.js';
import type { NodeContext } from '../node-context.js';
import { identityOf, readOnlyIdentities } from './find-read-only-files.js';
import { loadFileTree } from './load-file-tree.js';
import { readWorkerSettings } from './read-worker-settings.js';
import { workerMounts, type WorkerMount } from './resolve-worker-path.js';
import { workerPaths } from './worker-keys.js';
import { workerLayers } from './worker-layers.js';

/** What the file API needs to see a worker as its guest does: its mounts and read-only inodes. */
export interface WorkerView {
  /** The root over its lower layer (the version's shared read-only tree), volumes at their mounts. */
  mounts: WorkerMount[];
  /**
   * `dev:ino` of read-only files inside the root: only a root placed before overlays has any.
   * An overlay's read-only files are the ones found in its lower layer.
   */
  readOnly: Set<string>;
}

export async function loadWorkerView(ctx: NodeContext, record: WorkerRecord): Promise<WorkerView> {
  const version = await getComponentVersion(ctx.ports.registry, record.component, record.version);
  const paths = workerPaths(ctx, record.id);
  const layers = await workerLayers(ctx, record.id, version);
  const readOnly = layers.overlay
    ? new Set<string>()
    : (await readOnlyIdentities(ctx.ports.blobs, paths.root, await loadFileTree(ctx.ports.blobs, version.fileTree))).identities;
  return { mounts: workerMounts(paths, readWorkerSettings(version).volumes, layers.lower), readOnly };
}

/** Whether the file API shows a file as read-only. */
export function isReadOnlyIn(view: WorkerView, file: { inLower: boolean; stat: { dev: number; ino: number } }): boolean {
  return file.inLower || view.readOnly.has(identityOf(file.stat));
}
