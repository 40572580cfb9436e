import { WarrenError } from '../../errors.js';
import { readRootTag, restoreWritableTree, snapshotWritableTree } from '../../fsplace/index.js';
import { guestAncestorsOf } from '../../fsplace/guest-path.js';
import { readFileTree } from '../../manifest/file-tree.js';
import type { Blobs, Integrity } from '../../ports/blobs.js';
import type { ComponentVersionRecord, FileTree, FileTreeEntry, WorkerRecord } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { findReadOnlyFiles, type ReadOnlySet } from './find-read-only-files.js';
import { loadFileTree } from './load-file-tree.js';
import { readWorkerSettings } from './read-worker-settings.js';
import { workerPaths } from './worker-keys.js';

/**
 * A worker root's baseline: its writable files as its version placed them, which the root goes
 * back to after a lost instance (see instances/ensure-live-instance). Stored at create/update
 * and recovery, put back when an instance was lost; snapshot-files restores roots the same way.
 */

/** True when guest path `path` is `mount` or lies under it. */
export const underMount = (path: string, mount: string) => path === mount || path.startsWith(mount + '/');

/**
 * Puts `entries` back as the root's writable files (read-only files stay as placed). In an
 * overlay's upper layer, an entry must not take a path of the version's read-only files (it
 * would hide one): refused with E_SNAPSHOT_INVALID before anything changes.
 */
export async function restoreRoot(ctx: NodeContext, root: string, version: ComponentVersionRecord, entries: FileTreeEntry[], source: Blobs): Promise<void> {
  if ((await readRootTag(root))?.overlay) {
    const tree = await loadFileTree(ctx.ports.blobs, version.fileTree);
    const blocking = readOnlyPathIndex(tree);
    for (const e of entries) {
      if (blocking.files.has(e.path) || blocking.dirs.has(e.path) || guestAncestorsOf(e.path).some((d) => blocking.files.has(d))) {
        throw new WarrenError('E_SNAPSHOT_INVALID', `cannot restore ${e.path}: a read-only file of version ${version.version} is in the way`, { path: e.path });
      }
    }
  }
  const readOnly = await readOnlyFilesOf(ctx, root, version);
  await restoreWritableTree({ blobs: source, root, tree: { version: 1, entries }, readOnlyPaths: readOnly.paths });
}

/** A tree's read-only files and the directories that hold them. */
function readOnlyPathIndex(tree: FileTree): { files: Set<string>; dirs: Set<string> } {
  const files = new Set<string>();
  const dirs = new Set<string>();
  for (const e of tree.entries) {
    if (e.mode !== 'ro') continue;
    files.add(e.path);
    for (const d of guestAncestorsOf(e.path)) dirs.add(d);
  }
  return { files, dirs };
}

/**
 * The root's writable files as its version placed them: the tree recorded by the worker's last
 * update (`baseline`), else the read-write entries of the version's file tree. Entries under a
 * volume's mount are hidden by the volume and left out.
 */
export async function baselineRootEntries(ctx: NodeContext, record: WorkerRecord, version: ComponentVersionRecord): Promise<FileTreeEntry[]> {
  const { volumes } = readWorkerSettings(version);
  const tree = record.baseline ? await readFileTree(ctx.ports.blobs, record.baseline) : await loadFileTree(ctx.ports.blobs, version.fileTree);
  return tree.entries.filter((e) => e.mode === 'rw' && !volumes.some((v) => underMount(e.path, v.mount)));
}

/** Puts the root's writable files back to the worker's initial state (see baselineRootEntries); durable dirs are not touched. */
export async function restoreRootBaseline(ctx: NodeContext, record: WorkerRecord, version: ComponentVersionRecord): Promise<void> {
  const entries = await baselineRootEntries(ctx, record, version);
  await restoreRoot(ctx, workerPaths(ctx, record.id).root, version, entries, ctx.ports.blobs);
}

/**
 * Stores the root's writable files as they are now (right after an update placed them) as a
 * FileTree in the cluster store: the worker's new `baseline`.
 */
export async function storeRootBaseline(ctx: NodeContext, workerId: string, version: ComponentVersionRecord): Promise<Integrity> {
  const { volumes } = readWorkerSettings(version);
  const root = workerPaths(ctx, workerId).root;
  const readOnly = await readOnlyFilesOf(ctx, root, version);
  const stored = await snapshotWritableTree({ blobs: ctx.ports.blobs, root, readOnlyPaths: readOnly.paths, storeTree: false });
  const tree: FileTree = { version: 1, entries: stored.tree.entries.filter((e) => !volumes.some((v) => underMount(e.path, v.mount))) };
  const [info] = await Promise.all([ctx.ports.blobs.put(JSON.stringify(tree)), stored.cacheWritten]);
  return info.integrity;
}

/**
 * The read-only files inside a worker root placed from `version` (see findReadOnlyFiles): none in
 * an overlay's upper layer (they are its lower layer, never in a snapshot or baseline of the
 * worker's files); a root placed before overlays holds them hardlinked.
 */
export async function readOnlyFilesOf(ctx: NodeContext, root: string, version: ComponentVersionRecord): Promise<ReadOnlySet> {
  if ((await readRootTag(root))?.overlay) return { paths: [], identities: new Set() };
  return findReadOnlyFiles(ctx.ports.blobs, root, await loadFileTree(ctx.ports.blobs, version.fileTree));
}
