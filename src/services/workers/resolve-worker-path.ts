import { lstat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { WarrenError } from '../../errors.js';
import type { ManifestVolume } from '../../manifest/manifest-types.js';
import { volumeDir, type WorkerPaths } from './worker-keys.js';

export interface WorkerMount {
  guest: string;
  host: string;
  /** A read-only directory merged under `host` (the root's lower layer: the version's shared tree). */
  lower?: string | null;
}

export interface ResolvedWorkerPath {
  /** The clean guest path (`/static/a.txt`, `/` for the root). */
  guestPath: string;
  hostPath: string;
  stat: Stats;
  /** True when the path was found in its mount's lower layer: a read-only file of the version. */
  inLower: boolean;
  /** For a directory found in the upper layer, the lower layer's directory at the same path, merged under it. */
  lowerDir: string | null;
}

const MAX_PATH_LENGTH = 4096;

/** The worker's guest view for the file API: the root at `/` (over `lower`, if any), volumes at their mounts. */
export function workerMounts(paths: WorkerPaths, volumes: readonly ManifestVolume[], lower: string | null = null): WorkerMount[] {
  return [{ guest: '/', host: paths.root, lower }, ...volumes.map((v) => ({ guest: v.mount, host: volumeDir(paths, v.name) }))];
}

/**
 * A clean absolute guest path: `/`-separated, no `..`, no NUL; empty and `.` segments dropped
 * (`/static/` is `/static`). Anything else is E_PATH_INVALID.
 */
export function cleanGuestPath(path: unknown): string {
  const bad = (why: string): never => {
    throw new WarrenError('E_PATH_INVALID', `invalid path ${JSON.stringify(path)}: ${why}`, { path });
  };
  if (typeof path !== 'string' || path === '') return bad('give an absolute guest path such as /data/file.txt');
  if (!path.startsWith('/')) bad('not absolute');
  if (path.length > MAX_PATH_LENGTH) bad(`longer than ${MAX_PATH_LENGTH} characters`);
  if (path.includes('\0')) bad('contains NUL');
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) bad('".." is not allowed');
  return `/${segments.join('/')}`;
}

/**
 * Maps a guest path to the host file, checking every component with lstat: a symlink anywhere
 * on the way is refused (E_PATH_INVALID), never followed, so nothing outside the worker's
 * directories is reachable whatever the guest wrote. A mount with a lower layer is looked up as
 * the guest sees it: the upper layer first, then the lower. Missing → E_NOT_FOUND.
 */
export async function resolveWorkerPath(mounts: readonly WorkerMount[], rawPath: unknown): Promise<ResolvedWorkerPath> {
  const guestPath = cleanGuestPath(rawPath);
  const mount = mountOf(mounts, guestPath);
  const rest = mount.guest === '/' ? guestPath.slice(1) : guestPath.slice(mount.guest.length + 1);
  const upper = await resolveIn(mount.host, rest, guestPath);
  const lower = mount.lower && (upper === null || upper.stat.isDirectory()) ? await resolveIn(mount.lower, rest, guestPath) : null;
  const found = upper ?? lower;
  if (found === null) throw new WarrenError('E_NOT_FOUND', `no file ${guestPath} in the worker`, { path: guestPath });
  if (!found.stat.isDirectory() && !found.stat.isFile()) throw new WarrenError('E_PATH_INVALID', `${guestPath} is neither a file nor a directory`, { path: guestPath });
  return {
    guestPath,
    hostPath: found.hostPath,
    stat: found.stat,
    inLower: upper === null,
    lowerDir: upper !== null && lower?.stat.isDirectory() ? lower.hostPath : null,
  };
}

/** `rest` (a clean relative path) under one layer's host directory; null when it is not there. */
async function resolveIn(top: string, rest: string, guestPath: string): Promise<{ hostPath: string; stat: Stats } | null> {
  let hostPath = top;
  let st = await lstatOrNull(hostPath);
  if (st === null) return null;
  for (const segment of rest === '' ? [] : rest.split('/')) {
    if (!st.isDirectory()) return null; // a parent is not a directory
    hostPath = join(hostPath, segment);
    st = await lstatOrNull(hostPath);
    if (st === null) return null;
    if (st.isSymbolicLink()) {
      throw new WarrenError('E_PATH_INVALID', `path ${guestPath} goes through a symbolic link; the file API never follows links`, { path: guestPath });
    }
  }
  return { hostPath, stat: st };
}

/** The innermost mount holding the path (volumes shadow the root's directory of the same name). */
function mountOf(mounts: readonly WorkerMount[], guestPath: string): WorkerMount {
  let best = mounts[0];
  for (const m of mounts) {
    const under = m.guest === '/' || guestPath === m.guest || guestPath.startsWith(`${m.guest}/`);
    if (under && m.guest.length > best.guest.length) best = m;
  }
  return best;
}

async function lstatOrNull(hostPath: string): Promise<Stats | null> {
  try {
    return await lstat(hostPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw err;
  }
}
