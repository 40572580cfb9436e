import { mkdir } from 'node:fs/promises';
import { WarrenError } from '../../errors.js';
import { restoreWritableTree, snapshotWritableTree } from '../../fsplace/index.js';
import { compareGuestPaths } from '../../fsplace/place-file-tree.js';
import { readFileTree } from '../../manifest/file-tree.js';
import type { ManifestVolume, SnapshotScope } from '../../manifest/manifest-types.js';
import type { Blobs, Integrity } from '../../ports/blobs.js';
import type { ComponentVersionRecord, FileTree, FileTreeEntry } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { readWorkerSettings } from '../workers/read-worker-settings.js';
import { readOnlyFilesOf, restoreRoot, underMount as under } from '../workers/root-baseline.js';
import { volumeDir, workerPaths } from '../workers/worker-keys.js';

export interface StoredFiles {
  /** Digest of the combined FileTree blob (guest paths: root files, then `<mount>/...` of volumes). */
  digest: Integrity;
  bytesWritten: number;
  filesWritten: number;
  /** The tree's entries by part: `/` for the root's (full), each volume's under its mount. */
  parts: ReadonlyMap<string, readonly FileTreeEntry[]>;
}

/**
 * Stores a worker's files as one FileTree in `target`: for `data`, the durable dirs; for `full`,
 * also every file of the root's own layer (read-write initial files, files the guest created;
 * the version's read-only files are its shared tree, never in a snapshot). Each volume is its
 * own dir on the host, snapshotted on its own and listed under its mount. Files
 * unchanged since the last snapshot are not read (fsplace's digest cache); a part (`/` or a
 * volume's mount) for which `unchanged` gives the last snapshot's entries is not walked at all.
 */
export async function snapshotWorkerFiles(
  ctx: NodeContext,
  workerId: string,
  version: ComponentVersionRecord,
  scope: SnapshotScope,
  target: Blobs,
  unchanged: (part: string) => readonly FileTreeEntry[] | null = () => null,
): Promise<StoredFiles> {
  const paths = workerPaths(ctx, workerId);
  const { volumes } = readWorkerSettings(version);
  const parts = new Map<string, readonly FileTreeEntry[]>();
  let bytesWritten = 0;
  let filesWritten = 0;
  // Each walk's digest cache is written while the next part is walked and the tree is put.
  const cacheWrites: Promise<void>[] = [];
  try {
    if (scope === 'full') {
      let kept = unchanged('/');
      if (!kept) {
        const readOnly = await readOnlyFilesOf(ctx, paths.root, version);
        const root = await snapshotWritableTree({ blobs: target, root: paths.root, readOnlyPaths: readOnly.paths, storeTree: false });
        cacheWrites.push(root.cacheWritten);
        // Files under a mount point in the root are hidden by the volume: not the guest's to keep.
        kept = root.tree.entries.filter((e) => !volumes.some((v) => under(e.path, v.mount)));
        bytesWritten += root.bytesWritten;
        filesWritten += root.filesWritten;
      }
      parts.set('/', kept);
    }
    for (const v of volumes) {
      let kept = unchanged(v.mount);
      if (!kept) {
        const dir = volumeDir(paths, v.name);
        await mkdir(dir, { recursive: true });
        const part = await snapshotWritableTree({ blobs: target, root: dir, readOnlyPaths: [], storeTree: false });
        cacheWrites.push(part.cacheWritten);
        kept = part.tree.entries.map((e) => ({ ...e, path: `${v.mount}${e.path}` }));
        bytesWritten += part.bytesWritten;
        filesWritten += part.filesWritten;
      }
      parts.set(v.mount, kept);
    }
    const entries = [...parts.values()].flat();
    entries.sort((a, b) => compareGuestPaths(a.path, b.path));
    const tree: FileTree = { version: 1, entries };
    const [info] = await Promise.all([target.put(JSON.stringify(tree)), ...cacheWrites]);
    return { digest: info.integrity, bytesWritten, filesWritten, parts };
  } finally {
    await Promise.allSettled(cacheWrites);
  }
}

/**
 * Puts a worker's files back to a snapshot's tree (from `source`): every durable dir, and for
 * `full` the root's own layer too (the version's read-only files are not touched). The worker
 * must not be running. Entries under a mount the version does not have are refused before anything changes.
 * `volumes: false` leaves the durable dirs as they are (an instance lost on this node: they keep
 * every write, as a disk keeps a crashed process's files).
 */
export async function restoreWorkerFiles(
  ctx: NodeContext,
  workerId: string,
  version: ComponentVersionRecord,
  scope: SnapshotScope,
  treeDigest: Integrity,
  source: Blobs,
  opts: { volumes?: boolean } = {},
): Promise<void> {
  const paths = workerPaths(ctx, workerId);
  const { volumes } = readWorkerSettings(version);
  let tree: FileTree;
  try {
    tree = await readFileTree(source, treeDigest);
  } catch (err) {
    throw new WarrenError('E_SNAPSHOT_INVALID', `file tree ${treeDigest} of the snapshot is unreadable: ${(err as Error).message}`, { digest: treeDigest });
  }
  const byVolume = new Map<ManifestVolume, FileTreeEntry[]>(volumes.map((v) => [v, []]));
  const rootEntries: FileTreeEntry[] = [];
  for (const e of tree.entries) {
    const v = volumes.find((vol) => under(e.path, vol.mount));
    if (v && e.path !== v.mount) byVolume.get(v)!.push({ ...e, path: e.path.slice(v.mount.length) });
    else if (scope === 'full' && !v) rootEntries.push(e);
    else throw new WarrenError('E_SNAPSHOT_INVALID', `snapshot file ${e.path} lies outside the worker's ${scope === 'full' ? 'files' : 'durable dirs'}`, { path: e.path });
  }
  if (scope === 'full') await restoreRoot(ctx, paths.root, version, rootEntries, source);
  if (opts.volumes === false) return;
  for (const [v, entries] of byVolume) {
    const dir = volumeDir(paths, v.name);
    await mkdir(dir, { recursive: true });
    await restoreWritableTree({ blobs: source, root: dir, tree: { version: 1, entries }, readOnlyPaths: [] });
  }
}
