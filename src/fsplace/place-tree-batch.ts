import type { Blobs, Integrity } from '../ports/blobs.js';
import type { FileTreeEntry } from '../records.js';
import { runFileBatch } from './file-batch.js';
import { hostPathOfChecked } from './guest-path.js';
import { copyWritableBlob, linkReadOnlyBlobAfterHint, WRITABLE_MODE, type CopyFallbackEvent } from './place-blob-file.js';
import { runBounded } from './run-bounded.js';

/**
 * Places a checked tree into the empty directory `root` in one native batch: its directories
 * (`dirs` from checkTreePaths: parents first, in the order the entries need them), hardlinks to
 * the store files the store names (`localPathHint`) for read-only entries, copies of them for
 * read-write ones, all overlapping. Each entry the batch could not place then goes the
 * per-entry way, as if its first try had failed alone: a blob not local asks the store (and
 * may be streamed), a link that cannot work here (EXDEV, EPERM, EMLINK...) copies.
 */
export async function placeTreeBatch(
  blobs: Blobs,
  localPath: (digest: Integrity) => string,
  root: string,
  entries: readonly FileTreeEntry[],
  dirs: readonly string[],
  dirMode: number,
  limit: number,
  onFallback: (event: CopyFallbackEvent) => void,
): Promise<{ linked: number; copied: number }> {
  const dirIndex = new Map<string, number>();
  for (let i = 0; i < dirs.length; i++) dirIndex.set(dirs[i]!, i + 1);
  const n = entries.length;
  const srcs = new Array<string>(n);
  const dsts = new Array<string>(n);
  const copies = new Uint8Array(n);
  const needs = new Int32Array(n);
  let readOnly = 0;
  for (let i = 0; i < n; i++) {
    const e = entries[i]!;
    srcs[i] = localPath(e.digest);
    dsts[i] = hostPathOfChecked(root, e.path);
    if (e.mode === 'ro') readOnly++;
    else copies[i] = 1;
    const slash = e.path.lastIndexOf('/');
    needs[i] = slash === 0 ? 0 : dirIndex.get(e.path.slice(0, slash))!;
  }
  const hostDirs = dirs.map((d) => hostPathOfChecked(root, d));
  const { dirError, failed } = await runFileBatch({ dirs: hostDirs, srcs, dsts, copies, needs }, dirMode, WRITABLE_MODE);
  if (dirError) throw dirError;
  let linked = readOnly;
  let copied = n - readOnly;
  for (const f of failed) {
    if (copies[f.index]) copied--;
    else linked--;
  }
  await runBounded(failed, limit, async ({ index, error }) => {
    const e = entries[index]!;
    if (copies[index]) {
      await copyWritableBlob(blobs, e.digest, dsts[index]!, e.path);
      copied++;
    } else if ((await linkReadOnlyBlobAfterHint(blobs, e.digest, dsts[index]!, e.path, onFallback, srcs[index]!, error)) === 'linked') {
      linked++;
    }
  });
  return { linked, copied };
}
