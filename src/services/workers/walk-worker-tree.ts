import type { Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { WarrenError } from '../../errors.js';
import type { ResolvedWorkerPath, WorkerMount } from './resolve-worker-path.js';

export interface WorkerTreeEntry {
  /** Absolute guest path. */
  guestPath: string;
  /** Path relative to the walked directory. */
  relPath: string;
  hostPath: string;
  stat: Stats;
  /** True for an entry of the root's lower layer (the version's shared read-only tree). */
  inLower: boolean;
}

export interface WalkOptions {
  /** All descendants (depth first, names sorted) or only the children. */
  recursive: boolean;
  /** Checked before every entry: the walk stops with E_CANCELLED once it is aborted. */
  signal?: AbortSignal;
}

interface Frame {
  guestDir: string;
  /** The directory in the upper layer (or a volume), null when only the lower layer has it. */
  hostDir: string | null;
  /** The lower layer's directory at the same path, merged under `hostDir`. */
  lowerDir: string | null;
  rel: string;
  names: string[];
  next: number;
}

/**
 * The files and directories under a resolved directory of a worker, as its guest sees them
 * (a volume's mount point shows the volume; a directory of the root merges its upper and lower
 * layers, the upper's entry winning a name both have). One readdir per directory and layer and
 * one lstat per entry, each from its parent's already checked host path: resolving every entry
 * again from its mount root made an archive of a tree 1,000 deep take a minute. Symbolic links
 * (a guest may make them) and special files are skipped, never followed. The caller runs it in
 * the worker's queue, so nothing moves under it.
 */
export async function* walkWorkerTree(mounts: readonly WorkerMount[], top: ResolvedWorkerPath, opts: WalkOptions): AsyncGenerator<WorkerTreeEntry> {
  const volumes = new Map(mounts.filter((m) => m.guest !== '/').map((m) => [m.guest, m.host]));
  const topDirs = top.inLower ? { hostDir: null, lowerDir: top.hostPath } : { hostDir: top.hostPath, lowerDir: top.lowerDir };
  const stack: Frame[] = [{ guestDir: top.guestPath, ...topDirs, rel: '', names: await mergedNames(topDirs.hostDir, topDirs.lowerDir, top.guestPath), next: 0 }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next >= frame.names.length) {
      stack.pop();
      continue;
    }
    throwIfCancelled(opts.signal);
    const name = frame.names[frame.next++]!;
    const guestPath = frame.guestDir === '/' ? `/${name}` : `${frame.guestDir}/${name}`;
    const volume = volumes.get(guestPath);
    const upperPath = volume ?? (frame.hostDir === null ? null : `${frame.hostDir}/${name}`);
    const upperStat = upperPath === null ? null : await lstatOrNull(upperPath, guestPath);
    // A name the upper layer has (even as a link, which is skipped) hides the lower's.
    const lowerPath = upperStat === null && volume === undefined && frame.lowerDir !== null ? `${frame.lowerDir}/${name}` : null;
    const lowerStat = lowerPath === null ? null : await lstatOrNull(lowerPath, guestPath);
    const inLower = upperStat === null;
    const stat = upperStat ?? lowerStat;
    const hostPath = (inLower ? lowerPath : upperPath)!;
    if (!stat || !(stat.isDirectory() || stat.isFile())) continue;
    const relPath = frame.rel === '' ? name : `${frame.rel}/${name}`;
    yield { guestPath, relPath, hostPath, stat, inLower };
    if (opts.recursive && stat.isDirectory()) {
      // A directory of the upper layer merges the lower's directory of the same name, if it has one.
      let dirs: { hostDir: string | null; lowerDir: string | null } = { hostDir: null, lowerDir: hostPath };
      if (!inLower) {
        const under = volume === undefined && frame.lowerDir !== null ? `${frame.lowerDir}/${name}` : null;
        const underStat = under === null ? null : await lstatOrNull(under, guestPath);
        dirs = { hostDir: hostPath, lowerDir: underStat?.isDirectory() ? under : null };
      }
      stack.push({ guestDir: guestPath, ...dirs, rel: relPath, names: await mergedNames(dirs.hostDir, dirs.lowerDir, guestPath), next: 0 });
    }
  }
}

/** The error of a read whose caller went away (E_CANCELLED), if `signal` says so. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new WarrenError('E_CANCELLED', 'the file read was cancelled: its client went away');
}

/** The names of a directory's two layers, each once, sorted. */
async function mergedNames(hostDir: string | null, lowerDir: string | null, guestPath: string): Promise<string[]> {
  try {
    const upper = hostDir === null ? [] : await readdir(hostDir);
    if (lowerDir === null) return upper.sort();
    return [...new Set([...upper, ...(await readdir(lowerDir))])].sort();
  } catch (err) {
    throw hostError(err, guestPath);
  }
}

async function lstatOrNull(hostPath: string, guestPath: string): Promise<Stats | null> {
  try {
    return await lstat(hostPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw hostError(err, guestPath);
  }
}

/** A host failure named by guest path only: a host path never reaches the caller. */
function hostError(err: unknown, guestPath: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const shown = guestPath.length > 200 ? `${guestPath.slice(0, 200)}...` : guestPath;
  if (code === 'ENAMETOOLONG') {
    return new WarrenError('E_PATH_INVALID', `${shown} lies too deep: its host path is longer than the host allows`, { rule: 'host-path-length' });
  }
  return err;
}
