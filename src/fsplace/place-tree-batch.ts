import type { Blobs, Integrity } from '../ports/blobs.js';
import type { FileTreeEntry } from '../records.js';
import { dirname } from 'node:path';
import { DIR_ENSURE, DIR_EXISTS, runFileBatch, type FileBatch } from './file-batch.js';
import { hostPathOfChecked } from './guest-path.js';
import { copyWritableBlob, errorCode, linkReadOnlyBlobAfterHint, WRITABLE_MODE, type CopyFallbackEvent } from './place-blob-file.js';
import { runBounded } from './run-bounded.js';

export interface TreeBatchOptions {
  blobs: Blobs;
  localPath: (digest: Integrity) => string;
  /** The worker root: absolute and resolved. */
  root: string;
  entries: readonly FileTreeEntry[];
  /** From checkTreePaths: parents first, in the order the entries need them. */
  dirs: readonly string[];
  dirMode: number;
  limit: number;
  onFallback: (event: CopyFallbackEvent) => void;
  /**
   * Readies the root when the batch could not make it (it exists, or its parent does not):
   * prepareEmptyRoot. Resolves to whether it created the root; throws if the root is not usable.
   */
  prepareRoot: () => Promise<boolean>;
  /** Called once the root is ready, with whether this placement created it (for the clean-up). */
  onRootReady: (created: boolean) => void;
}

/**
 * Places a checked tree into `root` in one native batch: the root itself (and its parent if
 * missing: a mkdir each instead of round trips of their own), its directories, hardlinks to the store files the store names
 * (`localPathHint`) for read-only entries, copies of them for read-write ones, all overlapping.
 * Each entry the batch could not place then goes the per-entry way, as if its first try had
 * failed alone: a blob not local asks the store (and may be streamed), a link that cannot work
 * here (EXDEV, EPERM, EMLINK...) copies.
 *
 * Everything up to the native call runs before this function first awaits, so the caller can
 * do its own work while the batch runs.
 */
export async function placeTreeBatch(options: TreeBatchOptions): Promise<{ linked: number; copied: number }> {
  const { blobs, localPath, root, entries, dirs } = options;
  // Batch directory 0 is the root's parent (made if missing, as prepareEmptyRoot would), 1 the
  // root, and dirs[j] is batch directory j + 2. Values in `parents` and `needs` are 1-based.
  const dirIndex = new Map<string, number>();
  for (let j = 0; j < dirs.length; j++) dirIndex.set(dirs[j]!, j + 3);
  const hostDirs = new Array<string>(dirs.length + 2);
  const parents = new Int32Array(dirs.length + 2);
  hostDirs[0] = dirname(root);
  parents[0] = DIR_ENSURE;
  hostDirs[1] = root;
  parents[1] = 1;
  for (let j = 0; j < dirs.length; j++) {
    const d = dirs[j]!;
    hostDirs[j + 2] = hostPathOfChecked(root, d);
    const slash = d.lastIndexOf('/');
    parents[j + 2] = slash === 0 ? 2 : dirIndex.get(d.slice(0, slash))!;
  }
  const n = entries.length;
  const srcs = new Array<string>(n);
  const dsts = new Array<string>(n);
  const copies = new Uint8Array(n);
  const needs = new Int32Array(n);
  let readOnly = 0;
  let dir = ''; // the directory of the entry before, and its number: sorted trees repeat it
  let dirNumber = 2;
  for (let i = 0; i < n; i++) {
    const e = entries[i]!;
    const path = e.path;
    srcs[i] = localPath(e.digest);
    dsts[i] = hostPathOfChecked(root, path);
    if (e.mode === 'ro') readOnly++;
    else copies[i] = 1;
    const slash = path.lastIndexOf('/');
    if (slash === 0) {
      needs[i] = 2;
    } else {
      if (slash !== dir.length || !path.startsWith(dir)) {
        dir = path.slice(0, slash);
        dirNumber = dirIndex.get(dir)!;
      }
      needs[i] = dirNumber;
    }
  }
  const batch: FileBatch = { dirs: hostDirs, parents, srcs, dsts, copies, needs };
  let result = await runFileBatch(batch, options.dirMode, WRITABLE_MODE);
  const rootError = result.dirError !== null && result.dirError.index <= 1 ? result.dirError.error : null;
  if (rootError === null) {
    options.onRootReady(true);
  } else {
    // Nothing was placed: everything is under the root. The usual way then decides (it makes
    // missing parents, and refuses a root that is not an empty directory), and the batch runs
    // again on the root it readied.
    const code = errorCode(rootError);
    if (code !== 'EEXIST' && code !== 'ENOENT') throw rootError;
    options.onRootReady(await options.prepareRoot());
    parents[0] = DIR_EXISTS;
    parents[1] = DIR_EXISTS;
    result = await runFileBatch(batch, options.dirMode, WRITABLE_MODE);
  }
  if (result.dirError) throw result.dirError.error;
  const { failed } = result;
  let linked = readOnly;
  let copied = n - readOnly;
  for (const f of failed) {
    if (copies[f.index]) copied--;
    else linked--;
  }
  await runBounded(failed, options.limit, async ({ index, error }) => {
    const e = entries[index]!;
    if (copies[index]) {
      await copyWritableBlob(blobs, e.digest, dsts[index]!, e.path);
      copied++;
    } else if ((await linkReadOnlyBlobAfterHint(blobs, e.digest, dsts[index]!, e.path, options.onFallback, srcs[index]!, error)) === 'linked') {
      linked++;
    }
  });
  return { linked, copied };
}
