import { join } from 'node:path';
import { WarrenError } from '../errors.js';

/**
 * Guest paths are absolute (`/static/a.txt`). Trees are validated at push, but every layer that
 * turns a guest path into a host path checks again: one unchecked `..` is a host escape.
 */
export function assertGuestPath(path: string): void {
  if (typeof path !== 'string' || !path.startsWith('/')) badGuestPath(path, 'not absolute');
  if (path.includes('\0')) badGuestPath(path, 'contains NUL');
  if (path === '/') badGuestPath(path, 'is the root');
  // Segment by segment without split: this runs once per file of every tree placed.
  for (let start = 1; start <= path.length; ) {
    let end = path.indexOf('/', start);
    if (end < 0) end = path.length;
    const len = end - start;
    if (len === 0) badGuestPath(path, 'empty segment');
    if (path.charCodeAt(start) === 46 && (len === 1 || (len === 2 && path.charCodeAt(start + 1) === 46))) {
      badGuestPath(path, `"${path.slice(start, end)}" segment`);
    }
    start = end + 1;
  }
}

function badGuestPath(path: string, why: string): never {
  throw new WarrenError('E_PATH_INVALID', `invalid guest path ${JSON.stringify(path)}: ${why}`, { path });
}

/** The host path of a checked guest path under `root`. */
export function hostPathOf(root: string, guestPath: string): string {
  assertGuestPath(guestPath);
  return join(root, guestPath.slice(1));
}

/**
 * `root` + a guest path that assertGuestPath has already accepted (checkTreePaths does, for a
 * whole tree): such a path is absolute and clean, so plain concatenation is join() without the
 * second check and the normalizing, which placement would pay per file (docs/decisions.md).
 */
export function hostPathOfChecked(root: string, checkedGuestPath: string): string {
  return root === '/' ? checkedGuestPath : root + checkedGuestPath;
}

/** `/a/b/c` → `['/a', '/a/b']`. */
export function guestAncestorsOf(guestPath: string): string[] {
  const out: string[] = [];
  let i = guestPath.indexOf('/', 1);
  while (i !== -1) {
    out.push(guestPath.slice(0, i));
    i = guestPath.indexOf('/', i + 1);
  }
  return out;
}

export function guestChildPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** True when `guestPath` is `prefix` or below it. */
export function isUnderGuestPrefix(guestPath: string, prefix: string): boolean {
  if (prefix === '/') return true;
  const p = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return guestPath === p || guestPath.startsWith(`${p}/`);
}

/** Normalizes include prefixes (`/data/` → `/data`), checking each; `/` covers everything. */
export function normalizeGuestPrefixes(prefixes: readonly string[]): string[] {
  return prefixes.map((prefix) => {
    if (prefix === '/') return '/';
    const p = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
    assertGuestPath(p);
    return p;
  });
}
