import { WarrenError } from '../errors.js';
import type { FileTreeEntry } from '../records.js';
import { assertGuestPath, guestAncestorsOf } from './guest-path.js';

/**
 * Checks every entry path (again: defence in depth), that no path repeats and that no file
 * sits where another entry needs a directory. Returns the directories the tree needs, parents
 * first.
 */
export function checkTreePaths(entries: readonly FileTreeEntry[]): string[] {
  const files = new Set<string>();
  for (const entry of entries) {
    assertGuestPath(entry.path);
    if (files.has(entry.path)) throw new WarrenError('E_PATH_INVALID', `duplicate path ${entry.path}`, { path: entry.path });
    files.add(entry.path);
  }
  const dirs = new Set<string>();
  for (const entry of entries) {
    for (const dir of guestAncestorsOf(entry.path)) {
      if (files.has(dir)) throw new WarrenError('E_PATH_INVALID', `${dir} is both a file and a directory`, { path: dir });
      dirs.add(dir);
    }
  }
  return [...dirs].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
}
