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
}

export interface WalkOptions {
  /** All descendants (depth first, names sorted) or only the children. */
  recursive: boolean;
  /** Checked before every entry: the walk stops with E_CANCELLED once it is aborted. */
  signal?: AbortSignal;
}

interface Frame {
  guestDir: string;
  hostDir: string;
  rel: string;
  names: string[];
  next: number;
}

/**
 * The files and directories under a resolved directory of a worker, as its guest sees them
 * (a volume's mount point shows the volume). One readdir per directory and one lstat per entry,
 * each from its parent's already checked host path: resolving every entry again from its mount
 * root made an archive of a tree 1,000 deep take a minute. Symbolic links (a guest may make them)
 * and special files are skipped, never followed. The caller runs it in the worker's queue, so
 * nothing moves under it.
 */
export async function* walkWorkerTree(mounts: readonly WorkerMount[], top: ResolvedWorkerPath, opts: WalkOptions): AsyncGenerator<WorkerTreeEntry> {
  const volumes = new Map(mounts.filter((m) => m.guest !== '/').map((m) => [m.guest, m.host]));
  const stack: Frame[] = [{ guestDir: top.guestPath, hostDir: top.hostPath, rel: '', names: await sortedNames(top.hostPath, top.guestPath), next: 0 }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next >= frame.names.length) {
      stack.pop();
      continue;
    }
    throwIfCancelled(opts.signal);
    const name = frame.names[frame.next++]!;
    const guestPath = frame.guestDir === '/' ? `/${name}` : `${frame.guestDir}/${name}`;
    const hostPath = volumes.get(guestPath) ?? `${frame.hostDir}/${name}`;
    const stat = await lstatOrNull(hostPath, guestPath);
    if (!stat || !(stat.isDirectory() || stat.isFile())) continue;
    const relPath = frame.rel === '' ? name : `${frame.rel}/${name}`;
    yield { guestPath, relPath, hostPath, stat };
    if (opts.recursive && stat.isDirectory()) {
      stack.push({ guestDir: guestPath, hostDir: hostPath, rel: relPath, names: await sortedNames(hostPath, guestPath), next: 0 });
    }
  }
}

/** The error of a read whose caller went away (E_CANCELLED), if `signal` says so. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new WarrenError('E_CANCELLED', 'the file read was cancelled: its client went away');
}

async function sortedNames(hostPath: string, guestPath: string): Promise<string[]> {
  try {
    return (await readdir(hostPath)).sort();
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
