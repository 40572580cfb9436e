import { posix } from 'node:path';

/** A broken rule: `rule` is stable (tests and tools match on it), `message` is for people. */
export interface PathProblem {
  rule: string;
  message: string;
}

export const MAX_GUEST_PATH_LENGTH = 4096;
/**
 * NAME_MAX of Linux file systems, in bytes. A longer name was accepted at push and made the
 * worker's placement fail with ENAMETOOLONG (a 500 naming host paths): refused up front now.
 */
export const MAX_NAME_BYTES = 255;
// Tab is allowed (mount points may hold spaces and tabs); every other control character is not.
const CONTROL_RE = /[\x01-\x08\x0a-\x1f\x7f]/;

/**
 * Why `p` is not a clean absolute guest path, or null. Clean means the path is already in its
 * one canonical spelling, so equality of strings is equality of paths: no `.`/`..` segments,
 * no `//`, no trailing `/`, not `/` itself. `noBackslash` is for initial-file targets, which
 * travel as zip entry names, where a backslash is refused as a Windows separator.
 */
export function guestPathProblem(p: string, opts: { noBackslash?: boolean } = {}): PathProblem | null {
  if (p.includes('\0')) return { rule: 'no-nul', message: 'must not contain NUL' };
  if (!p.startsWith('/')) return { rule: 'absolute-path', message: 'must be an absolute path' };
  if (p === '/') return { rule: 'not-root', message: 'must not be / itself' };
  if (p.length > MAX_GUEST_PATH_LENGTH) return { rule: 'path-length', message: `must be at most ${MAX_GUEST_PATH_LENGTH} characters` };
  if (p.endsWith('/')) return { rule: 'no-trailing-slash', message: 'must not end with /' };
  if (p.includes('//')) return { rule: 'no-double-slash', message: 'must not contain //' };
  const segments = p.slice(1).split('/');
  if (segments.includes('..')) return { rule: 'no-dotdot', message: 'must not contain .. segments' };
  if (segments.includes('.')) return { rule: 'no-dot-segment', message: 'must not contain . segments' };
  if (segments.some((s) => s.length > MAX_NAME_BYTES / 3 && Buffer.byteLength(s) > MAX_NAME_BYTES)) {
    return { rule: 'name-length', message: `must not have a file name longer than ${MAX_NAME_BYTES} bytes` };
  }
  if (CONTROL_RE.test(p)) return { rule: 'no-control-chars', message: 'must not contain control characters (tab is allowed)' };
  if (opts.noBackslash && p.includes('\\')) return { rule: 'no-backslash', message: 'must not contain \\' };
  return null;
}

/** True when `inner` is `outer` or lies under it (both clean absolute paths). */
export function isSameOrUnder(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(outer + '/');
}

/**
 * A path relative to the component dir, normalized (`./static/` → `static`, `.` for the dir
 * itself), or a problem. `allowDotDot` permits `a/../b`, which stays inside; a path that
 * climbs out of the component dir is always refused.
 */
export function normalizeRelativePath(p: string, opts: { allowDotDot: boolean }): { ok: true; path: string } | { ok: false; problem: PathProblem } {
  if (p.length === 0) return { ok: false, problem: { rule: 'not-empty', message: 'must not be empty' } };
  if (p.includes('\0')) return { ok: false, problem: { rule: 'no-nul', message: 'must not contain NUL' } };
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) {
    return { ok: false, problem: { rule: 'relative-path', message: 'must be a path relative to the component directory' } };
  }
  if (p.includes('\\')) return { ok: false, problem: { rule: 'no-backslash', message: 'must use / as separator, not \\' } };
  if (CONTROL_RE.test(p)) return { ok: false, problem: { rule: 'no-control-chars', message: 'must not contain control characters' } };
  if (!opts.allowDotDot && p.split('/').includes('..')) {
    return { ok: false, problem: { rule: 'no-dotdot', message: 'must not contain .. segments' } };
  }
  const normal = posix.normalize(p).replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../')) {
    return { ok: false, problem: { rule: 'inside-component-dir', message: 'must not escape the component directory' } };
  }
  return { ok: true, path: normal === '' ? '.' : normal };
}
