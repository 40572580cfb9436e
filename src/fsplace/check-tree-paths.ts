import { WarrenError } from '../errors.js';
import type { FileTreeEntry } from '../records.js';
import { assertGuestPath } from './guest-path.js';

/**
 * Checks every entry path (again: defence in depth), that no path repeats and that no file
 * sits where another entry needs a directory. Returns the directories the tree needs, parents
 * first, in the order the entries first need them (so a batch can fill the first directories
 * while it still makes later ones).
 */
export function checkTreePaths(entries: readonly FileTreeEntry[]): string[] {
  const files = new Set<string>();
  for (const entry of entries) {
    assertGuestPath(entry.path);
    if (files.has(entry.path)) throw new WarrenError('E_PATH_INVALID', `duplicate path ${entry.path}`, { path: entry.path });
    files.add(entry.path);
  }
  const dirs = new Set<string>();
  const order: string[] = [];
  for (const entry of entries) {
    // Deepest ancestor first: once one is known, every one above it was checked with it.
    const path = entry.path;
    const first = order.length;
    for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
      const dir = path.slice(0, i);
      if (dirs.has(dir)) break;
      if (files.has(dir)) throw new WarrenError('E_PATH_INVALID', `${dir} is both a file and a directory`, { path: dir });
      dirs.add(dir);
      order.push(dir);
    }
    for (let a = first, b = order.length - 1; a < b; a++, b--) [order[a], order[b]] = [order[b]!, order[a]!];
  }
  return order;
}
