import { join } from 'node:path';
import { WarrenError } from '../errors.js';

/**
 * Guest paths are absolute (`/static/a.txt`). Trees are validated at push, but every layer that
 * turns a guest path into a host path checks again: one unchecked `..` is a host escape.
 */
export function assertGuestPath(path: string): void {
  const bad = (why: string): never => {
    throw new WarrenError('E_PATH_INVALID', `invalid guest path ${JSON.stringify(path)}: ${why}`, { path });
  };
  if (typeof path !== 'string' || !path.startsWith('/')) bad('not absolute');
  if (path.includes('\0')) bad('contains NUL');
  if (path === '/') bad('is the root');
  for (const segment of path.slice(1).split('/')) {
    if (segment === '') bad('empty segment');
    if (segment === '.' || segment === '..') bad(`"${segment}" segment`);
  }
}

/** The host path of a checked guest path under `root`. */
export function hostPathOf(root: string, guestPath: string): string {
  assertGuestPath(guestPath);
  return join(root, guestPath.slice(1));
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
