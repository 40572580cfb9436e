import { lstat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { WarrenError } from '../../errors.js';
import type { ManifestVolume } from '../../manifest/manifest-types.js';
import { volumeDir, type WorkerPaths } from './worker-keys.js';

export interface WorkerMount {
  guest: string;
  host: string;
}

export interface ResolvedWorkerPath {
  /** The clean guest path (`/static/a.txt`, `/` for the root). */
  guestPath: string;
  hostPath: string;
  stat: Stats;
}

const MAX_PATH_LENGTH = 4096;

/** The worker's guest view for the file API: the root at `/`, volumes at their mounts. */
export function workerMounts(paths: WorkerPaths, volumes: readonly ManifestVolume[]): WorkerMount[] {
  return [{ guest: '/', host: paths.root }, ...volumes.map((v) => ({ guest: v.mount, host: volumeDir(paths, v.name) }))];
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
 * directories is reachable whatever the guest wrote. Missing → E_NOT_FOUND.
 */
export async function resolveWorkerPath(mounts: readonly WorkerMount[], rawPath: unknown): Promise<ResolvedWorkerPath> {
  const guestPath = cleanGuestPath(rawPath);
  const mount = mountOf(mounts, guestPath);
  const rest = mount.guest === '/' ? guestPath.slice(1) : guestPath.slice(mount.guest.length + 1);
  let hostPath = mount.host;
  let st = await lstatOrNotFound(hostPath, guestPath);
  for (const segment of rest === '' ? [] : rest.split('/')) {
    if (!st.isDirectory()) throw new WarrenError('E_NOT_FOUND', `no file ${guestPath} in the worker (a parent is not a directory)`, { path: guestPath });
    hostPath = join(hostPath, segment);
    st = await lstatOrNotFound(hostPath, guestPath);
    if (st.isSymbolicLink()) {
      throw new WarrenError('E_PATH_INVALID', `path ${guestPath} goes through a symbolic link; the file API never follows links`, { path: guestPath });
    }
  }
  if (!st.isDirectory() && !st.isFile()) throw new WarrenError('E_PATH_INVALID', `${guestPath} is neither a file nor a directory`, { path: guestPath });
  return { guestPath, hostPath, stat: st };
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

async function lstatOrNotFound(hostPath: string, guestPath: string): Promise<Stats> {
  try {
    return await lstat(hostPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw new WarrenError('E_NOT_FOUND', `no file ${guestPath} in the worker`, { path: guestPath });
    }
    throw err;
  }
}
