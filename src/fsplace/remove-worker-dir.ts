import { rm } from 'node:fs/promises';
import { isAbsolute, parse, resolve } from 'node:path';
import { WarrenError } from '../errors.js';
import { digestCachePathOf } from './digest-cache.js';
import { updatePathsOf } from './recover-root.js';

/**
 * Removes a worker's directory. `fs.rm` unlinks symlinks instead of following them (tested), so a
 * guest symlink to a host directory removes the link, not the target. Read-only files are
 * hardlinks: removing them drops a link count, the store keeps its file.
 */
export async function removeWorkerDir(dir: string): Promise<void> {
  if (!isAbsolute(dir) || resolve(dir) === parse(resolve(dir)).root) {
    throw new WarrenError('E_PATH_INVALID', `refusing to remove ${JSON.stringify(dir)}`, { path: dir });
  }
  await rm(resolve(dir), { recursive: true, force: true });
}

/** Removes a root with everything an interrupted update or a snapshot left beside it. */
export async function removeWorkerRoot(root: string): Promise<void> {
  const p = updatePathsOf(root);
  for (const path of [p.next, p.old, p.marker, digestCachePathOf(root), p.root]) await removeWorkerDir(path);
}
