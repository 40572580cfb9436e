import { readRootTag } from '../../fsplace/index.js';
import type { ComponentVersionRecord } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { versionTreeOf } from './version-tree.js';
import { workerPaths } from './worker-keys.js';

/** The two layers of a worker's root on this node. */
export interface WorkerLayers {
  /** The worker's own files: its root directory. */
  upper: string;
  /** The version's shared read-only tree mounted under it; null when there is none to mount. */
  lower: string | null;
  /**
   * False for a root placed before overlays: the whole tree is in it, read-only files
   * hardlinked (found by inode, see find-read-only-files.ts). It keeps working that way until
   * an update makes it an upper layer (docs/decisions.md, "Worker roots as overlays").
   */
  overlay: boolean;
}

/**
 * The layers of a worker's root running `version` (the worker record's version, which recovery
 * keeps equal to the root's tag). The lower layer follows from the version alone, so a restarted
 * node, or one that adopted the worker, finds the tree, or places it here if it has none.
 */
export async function workerLayers(ctx: NodeContext, workerId: string, version: ComponentVersionRecord): Promise<WorkerLayers> {
  const upper = workerPaths(ctx, workerId).root;
  const overlay = (await readRootTag(upper))?.overlay === true;
  return { upper, lower: overlay ? await versionTreeOf(ctx, version) : null, overlay };
}
