import type { WorkerRecord } from '../../records.js';
import { getComponentVersion } from '../components/component-keys.js';
import type { NodeContext } from '../node-context.js';
import { readOnlyIdentities } from './find-read-only-files.js';
import { loadFileTree } from './load-file-tree.js';
import { readWorkerSettings } from './read-worker-settings.js';
import { workerMounts, type WorkerMount } from './resolve-worker-path.js';
import { workerPaths } from './worker-keys.js';

/** What the file API needs to see a worker as its guest does: its mounts and read-only inodes. */
export interface WorkerView {
  mounts: WorkerMount[];
  /** `dev:ino` of read-only files. */
  readOnly: Set<string>;
}

export async function loadWorkerView(ctx: NodeContext, record: WorkerRecord): Promise<WorkerView> {
  const version = await getComponentVersion(ctx.ports.registry, record.component, record.version);
  const paths = workerPaths(ctx, record.id);
  const tree = await loadFileTree(ctx.ports.blobs, version.fileTree);
  const { identities } = await readOnlyIdentities(ctx.ports.blobs, paths.root, tree);
  return { mounts: workerMounts(paths, readWorkerSettings(version).volumes), readOnly: identities };
}
