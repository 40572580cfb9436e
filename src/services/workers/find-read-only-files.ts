import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Blobs } from '../../ports/blobs.js';
import type { FileTree } from '../../records.js';

export interface ReadOnlySet {
  /** Guest paths (under `/`) of the worker root's read-only files, as they are now. */
  paths: string[];
  /** `dev:ino` of those files. */
  identities: Set<string>;
}

export const identityOf = (st: { dev: number; ino: number }): string => `${st.dev}:${st.ino}`;

/** `dev:ino` of a root's read-only files: the tree's read-only entries and their store files. */
export async function readOnlyIdentities(blobs: Blobs, root: string, tree: FileTree): Promise<{ identities: Set<string>; paths: Set<string> }> {
  const identities = new Set<string>();
  const paths = new Set<string>();
  for (const entry of tree.entries) {
    if (entry.mode !== 'ro') continue;
    const st = await lstat(join(root, entry.path.slice(1))).catch(() => null);
    if (st?.isFile()) {
      identities.add(identityOf(st));
      paths.add(entry.path);
    }
    const storeFile = await blobs.path(entry.digest).catch(() => null);
    const storeStat = storeFile ? await stat(storeFile).catch(() => null) : null;
    if (storeStat) identities.add(identityOf(storeStat));
  }
  return { identities, paths };
}

/**
 * The read-only files of a worker root placed before overlays (an overlay's upper layer has
 * none: see worker-layers.ts): the tree's read-only entries, plus any other name that
 * shares an inode with one of them or with a read-only store file. A guest may rename or
 * hardlink a read-only file (the WASI layer keys read-only-ness by inode while it runs); the
 * tree's paths alone would then give the next instance a writable name for bytes every worker
 * and the store share.
 */
export async function findReadOnlyFiles(blobs: Blobs, root: string, tree: FileTree): Promise<ReadOnlySet> {
  const { identities, paths } = await readOnlyIdentities(blobs, root, tree);
  if (identities.size > 0) await walk(root, '/', identities, paths);
  return { paths: [...paths].sort(), identities };
}

async function walk(hostDir: string, guestDir: string, identities: Set<string>, out: Set<string>): Promise<void> {
  const entries = await readdir(hostDir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const host = join(hostDir, e.name);
    const guest = guestDir === '/' ? `/${e.name}` : `${guestDir}/${e.name}`;
    if (e.isDirectory()) await walk(host, guest, identities, out);
    else if (e.isFile()) {
      const st = await lstat(host).catch(() => null);
      if (st && identities.has(identityOf(st))) out.add(guest);
    }
  }
}
