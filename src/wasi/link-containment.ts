import { readdirSync, readlinkSync } from 'node:fs';
import { E, Errno } from './abi.js';

/**
 * Guest symlinks must stay in their mount wherever they are: host-side tools (file API,
 * archives, snapshots) read the tree later and may not follow links the way the WASI resolver
 * does. A relative target is judged from the link's directory, so a link checked when it was
 * made can come to point outside by being moved: renames and hardlinks of links, and renames of
 * directories holding them, are checked at the new place too (docs/decisions.md, "Guest
 * symlinks stay inside their mount").
 */

/** Entries a directory rename may walk to check the links it moves; past it the rename is EXDEV. */
export const MOVED_TREE_WALK_LIMIT = 10_000;

/** True when `target`, read relative to the directory `fromRel` of a mount, stays in that mount. */
export function symlinkStaysInMount(fromRel: string, target: string): boolean {
  if (target === '' || target.startsWith('/') || target.includes('\0')) return false;
  let depth = fromRel === '' ? 0 : fromRel.split('/').length;
  for (const c of target.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (depth === 0) return false;
      depth--;
    } else depth++;
  }
  return true;
}

export function depthOf(mountRel: string): number {
  return mountRel === '' ? 0 : mountRel.split('/').length;
}

/** The mount-relative directory holding `mountRel`. */
export function parentOf(mountRel: string): string {
  const i = mountRel.lastIndexOf('/');
  return i < 0 ? '' : mountRel.slice(0, i);
}

/**
 * Refuses (EPERM) moving the directory at host path `dir` to mount-relative `toRel` when a link
 * inside it would point outside the mount from there. Only called when the directory moves
 * closer to a mount root (or to another mount): a link that stayed inside from its place keeps
 * doing so deeper down, as its target climbs the same number of levels. Bounded: a tree with
 * more entries than MOVED_TREE_WALK_LIMIT is EXDEV, which `mv` and friends answer by copying
 * (each link then made again by path_symlink, which checks it).
 */
export function checkLinksMovedTo(dir: string, toRel: string): void {
  let seen = 0;
  const walk = (host: string, rel: string): void => {
    for (const ent of readdirSync(host, { withFileTypes: true })) {
      if (++seen > MOVED_TREE_WALK_LIMIT) throw new Errno(E.XDEV);
      const path = `${host}/${ent.name}`;
      if (ent.isSymbolicLink()) {
        if (!symlinkStaysInMount(rel, readlinkSync(path))) throw new Errno(E.PERM);
      } else if (ent.isDirectory()) {
        walk(path, `${rel}/${ent.name}`);
      }
    }
  };
  walk(dir, toRel);
}
