import { lstat, mkdir, rename, rm, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { WarrenError } from '../errors.js';
import type { Blobs } from '../ports/blobs.js';
import type { FileTree } from '../records.js';
import { checkTreePaths } from './check-tree-paths.js';
import { cacheKeyOf, readDigestCache } from './digest-cache.js';
import { fileIdentity, readOnlyIdentities } from './file-identity.js';
import { guestAncestorsOf, hostPathOf, isUnderGuestPrefix, normalizeGuestPrefixes } from './guest-path.js';
import { listTree, type TreeListing } from './list-tree.js';
import { copyWritableBlob, errorCode } from './place-blob-file.js';
import { runBounded } from './run-bounded.js';

export interface RestoreWritableTreeOptions {
  blobs: Blobs;
  root: string;
  /** A tree written by snapshotWritableTree. */
  tree: FileTree;
  /** The read-only paths of the placement: never removed or overwritten. */
  readOnlyPaths: readonly string[];
  /** Only restore (and remove) at or below these guest paths; every entry must lie in them. */
  include?: readonly string[];
  concurrency?: number;
}

export interface RestoreWritableTreeResult {
  /** Files copied from the store. */
  written: number;
  /** Files left as they were: same bytes by the digest cache. */
  unchanged: number;
  /** Writable files, symlinks and directories removed because the tree does not have them. */
  removed: number;
}

/**
 * Puts the worker's writable files back to a snapshot's tree: each file is a private copy from
 * the store (never a hardlink: they are writable), written to a temporary name and renamed in,
 * so a name that is a guest hardlink is replaced, never written through. Writable files and
 * symlinks the tree does not have are removed; read-only inodes stay under every name (the
 * snapshot skipped them) unless the tree has a file at that name; empty directories stay.
 * Everything is checked (blobs present, no read-only file in the way) before anything changes.
 * A crash part way leaves a mix; running it again converges. The worker must not be running.
 */
export async function restoreWritableTree(options: RestoreWritableTreeOptions): Promise<RestoreWritableTreeResult> {
  const { blobs, tree } = options;
  const root = resolve(options.root);
  const prefixes = normalizeGuestPrefixes(options.include ?? ['/']);
  checkTreePaths(tree.entries);
  for (const entry of tree.entries) {
    if (entry.mode !== 'rw') throw invalid(entry.path, 'snapshot entries must be read-write');
    if (!prefixes.some((p) => isUnderGuestPrefix(entry.path, p))) throw invalid(entry.path, 'outside the restored directories');
  }
  const limit = options.concurrency ?? 16;
  await runBounded(tree.entries, limit, async (entry) => {
    if (!(await blobs.has(entry.digest))) {
      throw new WarrenError('E_NOT_FOUND', `blob ${entry.digest} for ${entry.path} is not in the store`, { digest: entry.digest, path: entry.path });
    }
  });

  const readOnly = await readOnlyIdentities(root, options.readOnlyPaths);
  const listing: TreeListing = { dirs: [], files: [], symlinks: [], others: [] };
  for (const prefix of prefixes) {
    const part = await listTree(root, prefix);
    for (const kind of ['dirs', 'files', 'symlinks', 'others'] as const) listing[kind].push(...part[kind]);
  }
  // Read-only inodes are never removed, under any name; the placed read-only names are never replaced.
  const readOnlyNames = new Set<string>();
  await runBounded(listing.files, limit, async (path) => {
    const st = await lstat(hostPathOf(root, path), { bigint: true });
    if (readOnly.has(fileIdentity(st))) readOnlyNames.add(path);
  });
  const placedReadOnly = new Set(options.readOnlyPaths.filter((p) => readOnlyNames.has(p)));
  const placedReadOnlyDirs = new Set([...placedReadOnly].flatMap((f) => guestAncestorsOf(f)));
  for (const entry of tree.entries) {
    if (placedReadOnly.has(entry.path) || placedReadOnlyDirs.has(entry.path) || guestAncestorsOf(entry.path).some((d) => readOnlyNames.has(d))) {
      throw invalid(entry.path, 'a read-only file is in the way');
    }
  }

  const wanted = new Set(tree.entries.map((e) => e.path));
  let removed = 0;
  const strays = [...listing.files, ...listing.symlinks, ...listing.others].filter((p) => !wanted.has(p) && !readOnlyNames.has(p));
  await runBounded(strays, limit, async (path) => {
    await unlink(hostPathOf(root, path));
    removed++;
  });
  const dirsInTheWay = listing.dirs.filter((d) => wanted.has(d));
  for (const dir of dirsInTheWay) {
    await rm(hostPathOf(root, dir), { recursive: true, force: true });
    removed++;
  }

  const cache = await readDigestCache(root);
  let written = 0;
  let unchanged = 0;
  await runBounded(tree.entries, limit, async (entry) => {
    const dst = hostPathOf(root, entry.path);
    const current = await lstat(dst, { bigint: true }).catch((err: unknown) => {
      if (errorCode(err) === 'ENOENT') return null;
      throw err;
    });
    const cached = cache.get(entry.path);
    if (current?.isFile() && cached !== undefined && cached.key === cacheKeyOf(current) && cached.digest === entry.digest) {
      unchanged++;
      return;
    }
    await mkdir(dirname(dst), { recursive: true, mode: 0o755 });
    const tmp = `${dirname(dst)}/.warren-restore-${randomBytes(6).toString('hex')}`;
    try {
      await copyWritableBlob(blobs, entry.digest, tmp, entry.path);
      await rename(tmp, dst);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    written++;
  });
  return { written, unchanged, removed };
}

function invalid(path: string, why: string): WarrenError {
  return new WarrenError('E_SNAPSHOT_INVALID', `cannot restore ${path}: ${why}`, { path });
}
