import { readFileTree } from '../../manifest/file-tree.js';
import type { Blobs, Integrity } from '../../ports/blobs.js';
import type { FileTree } from '../../records.js';

const EMPTY: FileTree = { version: 1, entries: [] };

/** Trees are immutable by digest: the last few read are kept (every call of an `on_call` worker needs its version's). */
const recent = new Map<string, Promise<FileTree>>();
const RECENT_TREES = 64;

/** A component version's file tree; a version without initial files has the empty tree. Do not mutate the result. */
export function loadFileTree(blobs: Blobs, digest: Integrity | null): Promise<FileTree> {
  if (!digest) return Promise.resolve(EMPTY);
  let tree = recent.get(digest);
  if (tree) {
    recent.delete(digest);
    recent.set(digest, tree);
    return tree;
  }
  tree = readFileTree(blobs, digest);
  recent.set(digest, tree);
  tree.catch(() => recent.delete(digest!));
  if (recent.size > RECENT_TREES) recent.delete(recent.keys().next().value as string);
  return tree;
}
