import { lstat } from 'node:fs/promises';
import { hostPathOf } from './guest-path.js';
import { fileIdentity } from './file-identity.js';
import { listTree } from './list-tree.js';
import { runBounded } from './run-bounded.js';

/**
 * Disk use of a worker's writable files, for the disk quota: regular files whose identity is not
 * read-only, each inode counted once. Bytes are logical sizes (a sparse file counts its full
 * length), so the guest can predict its quota from what it wrote.
 */
export async function measureTree(root: string, readOnly: ReadonlySet<string>): Promise<{ files: number; bytes: number }> {
  const { files } = await listTree(root);
  const seen = new Set<string>();
  let bytes = 0;
  await runBounded(files, 32, async (path) => {
    const st = await lstat(hostPathOf(root, path), { bigint: true }).catch(() => null);
    if (st === null || !st.isFile()) return;
    const id = fileIdentity(st);
    if (readOnly.has(id) || seen.has(id)) return;
    seen.add(id);
    bytes += Number(st.size);
  });
  return { files: seen.size, bytes };
}
