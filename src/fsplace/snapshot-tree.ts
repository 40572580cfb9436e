import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { BlobInfo, Blobs, Integrity } from '../ports/blobs.js';
import type { FileTree, FileTreeEntry } from '../records.js';
import { cacheKeyOf, isCacheable, readDigestCache, writeDigestCache, type DigestCacheEntry } from './digest-cache.js';
import { fileIdentity, readOnlyIdentities } from './file-identity.js';
import { hostPathOf, isUnderGuestPrefix, normalizeGuestPrefixes } from './guest-path.js';
import { listTree } from './list-tree.js';
import { compareGuestPaths } from './place-file-tree.js';
import { runBounded } from './run-bounded.js';

export interface SnapshotWritableTreeOptions {
  blobs: Blobs;
  root: string;
  /** The read-only paths of the placement: their inodes (under any name) are not snapshotted. */
  readOnlyPaths: readonly string[];
  /** Only files at or below these guest paths (e.g. durable mounts for `data` snapshots). */
  include?: readonly string[];
  concurrency?: number;
  /** False: the caller combines trees and stores its own; no FileTree blob is put here. Default true. */
  storeTree?: boolean;
}

export interface SnapshotWritableTreeResult {
  tree: FileTree;
  /** Digest of the FileTree blob (null when `storeTree` is false). */
  digest: Integrity | null;
  /** Bytes of files read and put into the store (0 when nothing changed since the last snapshot). */
  bytesWritten: number;
  /** Files read and put (cache misses). */
  filesWritten: number;
  /**
   * Settles once the digest cache is written (it already has, when `storeTree` is true): a
   * caller that stores its own tree awaits it along with that put, one wait instead of two.
   */
  cacheWritten: Promise<void>;
}

/**
 * Stores the worker's writable regular files as a FileTree blob (every entry `rw`). Files whose
 * inode, size, mtime and ctime match the last snapshot are not read. Not captured: symlinks,
 * FIFOs and the like, empty directories, and hardlinks between writable files (each name becomes
 * its own entry). The worker must be paused: a file changing while read is stored as read.
 */
export async function snapshotWritableTree(options: SnapshotWritableTreeOptions): Promise<SnapshotWritableTreeResult> {
  const { blobs } = options;
  const root = resolve(options.root);
  const prefixes = normalizeGuestPrefixes(options.include ?? ['/']);
  // Three independent reads, at once: a small tree (an `on_call` snapshot's) is mostly waits.
  const [readOnly, cache, listed] = await Promise.all([
    readOnlyIdentities(root, options.readOnlyPaths),
    readDigestCache(root),
    Promise.all(prefixes.map((prefix) => listTree(root, prefix))),
  ]);
  const files = new Set<string>();
  for (const list of listed) for (const f of list.files) files.add(f);

  const entries: FileTreeEntry[] = [];
  const nextCache = new Map([...cache].filter(([path]) => !prefixes.some((p) => isUnderGuestPrefix(path, p))));
  let bytesWritten = 0;
  let filesWritten = 0;
  await runBounded([...files], options.concurrency ?? 16, async (path) => {
    const host = hostPathOf(root, path);
    const st = await lstat(host, { bigint: true });
    if (!st.isFile() || readOnly.has(fileIdentity(st))) return;
    const key = cacheKeyOf(st);
    const hit = cache.get(path);
    let entry: DigestCacheEntry;
    if (hit !== undefined && hit.key === key && (await blobs.has(hit.digest))) {
      entry = hit;
    } else {
      const info = await putFile(blobs, host, st.size);
      bytesWritten += info.size;
      filesWritten++;
      entry = { key, digest: info.integrity, size: info.size };
    }
    if (isCacheable(st)) nextCache.set(path, entry);
    entries.push({ path, digest: entry.digest, mode: 'rw', size: entry.size });
  });
  entries.sort((a, b) => compareGuestPaths(a.path, b.path));
  const tree: FileTree = { version: 1, entries };
  const changed = filesWritten > 0 || nextCache.size !== cache.size || [...nextCache].some(([path, e]) => cache.get(path)?.key !== e.key);
  const cacheWritten = changed ? writeDigestCache(root, nextCache) : Promise.resolve();
  // Settled by the caller (or below); until then a failure must not be an unhandled rejection.
  cacheWritten.catch(() => undefined);
  if (options.storeTree === false) return { tree, digest: null, bytesWritten, filesWritten, cacheWritten };
  const [stored] = await Promise.all([blobs.put(JSON.stringify(tree)), cacheWritten]);
  return { tree, digest: stored.integrity, bytesWritten, filesWritten, cacheWritten };
}

/** Files up to this size are read whole and put as one buffer: no stream to set up for the small files most snapshots hold. */
const SMALL_FILE_BYTES = 1 << 20;

/** O_NOFOLLOW: never read through a link. A store refuses an empty stream: empty and small files go as a buffer. */
async function putFile(blobs: Blobs, host: string, size: bigint): Promise<BlobInfo> {
  const handle = await open(host, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    if (size <= BigInt(SMALL_FILE_BYTES)) return await blobs.put(await handle.readFile());
    return await blobs.putStream(handle.createReadStream({ autoClose: false }));
  } finally {
    await handle.close();
  }
}
