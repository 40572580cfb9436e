import { readFileTree } from '../../manifest/file-tree.js';
import type { Blobs, Integrity } from '../../ports/blobs.js';
import type { FileTree } from '../../records.js';

const EMPTY: FileTree = { version: 1, entries: [] };

/** A component version's file tree; a version without initial files has the empty tree. */
export function loadFileTree(blobs: Blobs, digest: Integrity | null): Promise<FileTree> {
  return digest ? readFileTree(blobs, digest) : Promise.resolve(EMPTY);
}
