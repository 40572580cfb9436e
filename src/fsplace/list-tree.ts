import { lstat, readdir } from 'node:fs/promises';
import { WarrenError } from '../errors.js';
import { guestAncestorsOf, guestChildPath, hostPathOf } from './guest-path.js';
import { errorCode } from './place-blob-file.js';
import { runBounded } from './run-bounded.js';

/** Guest paths found under a root, by kind. Symlinks are listed, never followed. */
export interface TreeListing {
  dirs: string[];
  files: string[];
  symlinks: string[];
  /** FIFOs, sockets, devices: nothing placement creates. */
  others: string[];
}

const LIST_CONCURRENCY = 16;

/**
 * Lists everything below guest directory `under` (default: the whole root) without following
 * symlinks: neither inside the tree nor on the way down to `under` (a guest symlink named like
 * a mount must not make us list a host directory).
 */
export async function listTree(root: string, under = '/'): Promise<TreeListing> {
  const listing: TreeListing = { dirs: [], files: [], symlinks: [], others: [] };
  if (under !== '/') {
    const kind = await guestPathKind(root, under);
    if (kind === 'missing') return listing;
    if (kind !== 'dir') {
      listing[kind === 'file' ? 'files' : kind === 'symlink' ? 'symlinks' : 'others'].push(under);
      return listing;
    }
  }
  let frontier = [under];
  while (frontier.length > 0) {
    const next: string[] = [];
    await runBounded(frontier, LIST_CONCURRENCY, async (dir) => {
      const host = dir === '/' ? root : hostPathOf(root, dir);
      for (const dirent of await readdir(host, { withFileTypes: true })) {
        const path = guestChildPath(dir, dirent.name);
        if (dirent.isDirectory()) {
          listing.dirs.push(path);
          next.push(path);
        } else if (dirent.isFile()) listing.files.push(path);
        else if (dirent.isSymbolicLink()) listing.symlinks.push(path);
        else listing.others.push(path);
      }
    });
    frontier = next;
  }
  return listing;
}

export type GuestPathKind = 'missing' | 'dir' | 'file' | 'symlink' | 'other';

/**
 * What is at `guestPath`, checking with lstat that every ancestor is a real directory. A
 * symlink or file where a directory should be is `E_PATH_INVALID`: the caller must not go on
 * through it.
 */
export async function guestPathKind(root: string, guestPath: string): Promise<GuestPathKind> {
  for (const dir of guestAncestorsOf(guestPath)) {
    const kind = await lstatKind(hostPathOf(root, dir));
    if (kind === 'missing') return 'missing';
    if (kind !== 'dir') throw new WarrenError('E_PATH_INVALID', `${dir} is not a directory (on the way to ${guestPath})`, { path: guestPath });
  }
  return lstatKind(hostPathOf(root, guestPath));
}

async function lstatKind(host: string): Promise<GuestPathKind> {
  try {
    const st = await lstat(host);
    if (st.isDirectory()) return 'dir';
    if (st.isFile()) return 'file';
    if (st.isSymbolicLink()) return 'symlink';
    return 'other';
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return 'missing';
    throw err;
  }
}
