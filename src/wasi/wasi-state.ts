import { constants, fstatSync, openSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { WarrenError } from '../errors.js';
import { isFdExhaustion, tooManyFilesError } from '../host-failure.js';
import { FILETYPE, filetypeOfMode } from './abi.js';
import { closeQuietly, type FdEntry, type FdKind, type FdTable } from './fd-table.js';
import { findMount, type Mount, type MountTable } from './mount-table.js';
import { resolveInMount } from './overlay-resolve.js';
import type { PathResolver } from './path-resolver.js';
import type { ReadOnlySet } from './read-only-set.js';

/**
 * One open fd as plain data: the fd table entry without what only lives in this process (the
 * host fd and a cached listing). Restore reopens by path.
 */
export type WasiFdState = Omit<FdEntry, 'hostFd' | 'listing'> & { fd: number };

/**
 * Everything a guest's WASI view consists of, JSON-serializable. To restore on a node where the
 * roots live elsewhere, rewrite `mounts.mounts[i].hostPath` before WasiHost.restore: fds are
 * reopened by mount index + mount-relative path, and the read-only set is re-keyed by stat of
 * `mounts.readOnlyFiles` (inode numbers change when a root is placed again).
 */
export interface WasiState {
  version: 1;
  args: string[];
  env: Record<string, string>;
  mounts: MountTable;
  /** dev:ino of the read-only files when exported (informational; restore re-keys from paths). */
  readOnlyIds: string[];
  fds: WasiFdState[];
  maxOpenFiles: number;
}

export function exportFds(fds: FdTable): WasiFdState[] {
  const out: WasiFdState[] = [];
  fds.entries.forEach((e, fd) => {
    if (!e) return;
    const { hostFd: _h, listing: _l, ...data } = e;
    out.push({ ...data, fd });
  });
  return out;
}

export function stdioEntry(kind: 'stdin' | 'stdout' | 'stderr'): FdEntry {
  return {
    kind, filetype: FILETYPE.UNKNOWN, hostFd: -1, mount: -1, mountRel: '', guestPath: '', hostPath: '', offset: 0,
    fdflags: 0, readable: kind === 'stdin', writable: kind !== 'stdin', readOnly: false, lower: false, rightsDropped: 0,
    inheritingDropped: 0, preopen: null, dev: 0, ino: 0, listing: null,
  };
}

/** Opens a mount's root as a preopened directory entry. */
export function openMountRoot(mounts: Mount[], index: number): FdEntry {
  const m = mounts[index]!;
  let hostFd: number;
  try {
    hostFd = openSync(m.hostPath, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (err) {
    if (isFdExhaustion(err)) throw tooManyFilesError(`mount ${m.guestPath}`);
    throw new WarrenError('E_NOT_FOUND', `mount ${m.guestPath}: cannot open host directory ${m.hostPath}: ${(err as Error).message}`, {
      guestPath: m.guestPath, hostPath: m.hostPath,
    });
  }
  const st = fstatSync(hostFd);
  return {
    kind: 'dir', filetype: FILETYPE.DIRECTORY, hostFd, mount: index, mountRel: '', guestPath: m.guestPath,
    hostPath: m.hostPath, offset: 0, fdflags: 0, readable: true, writable: false, readOnly: m.mode === 'ro', lower: false,
    rightsDropped: 0, inheritingDropped: 0, preopen: m.guestPath, dev: st.dev, ino: st.ino, listing: null,
  };
}

/** Keys the read-only set by the identity of each listed guest path that exists now. */
export function keyReadOnlySet(set: ReadOnlySet, mounts: Mount[], roots: FdEntry[], resolver: PathResolver): void {
  for (const guestPath of set.guestPaths) {
    const at = findMount(mounts, guestPath);
    if (!at || at.rel === '') continue;
    try {
      resolver.beginCall();
      const r = resolveInMount(resolver, roots[at.index]!, mounts[at.index]!, at.rel, true);
      const st = fstatOfPath(r.target);
      if (st) set.addId(st.dev, st.ino);
    } catch {
      // a listed file that does not exist (yet): its guest path alone keeps it read-only
    }
  }
}

function fstatOfPath(path: string): { dev: number; ino: number } | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    return fstatSync(fd);
  } finally {
    closeQuietly(fd);
  }
}

/**
 * Reopens one exported fd inside its mount (by path, re-checked by the resolver). On an overlay
 * mount the path is resolved through the layers again, so the fd lands on whichever layer holds
 * the name now (the exported `lower` is not trusted); a lower file is reopened read-only.
 */
export function reopenFd(s: WasiFdState, mounts: Mount[], roots: FdEntry[], resolver: PathResolver, isReadOnly: (st: Stats, guestPath: string) => boolean): FdEntry {
  const m = mounts[s.mount];
  const root = roots[s.mount];
  if (!m || !root) throw new WarrenError('E_SNAPSHOT_INVALID', `fd ${s.fd} refers to mount #${s.mount}, which the state does not have`);
  // States from before rights could be dropped have no rightsDropped: nothing was dropped.
  const dropped = { rightsDropped: s.rightsDropped ?? 0, inheritingDropped: s.inheritingDropped ?? 0 };
  if (s.preopen !== null && s.mountRel === '') return { ...openMountRoot(mounts, s.mount), preopen: s.preopen, ...dropped };
  resolver.beginCall();
  const r = s.mountRel === '' ? null : resolveInMount(resolver, root, m, s.mountRel, false);
  const target = r === null ? null : r.target;
  const lower = r !== null && r.lower;
  let hostFd: number;
  const { O_RDONLY, O_WRONLY, O_RDWR, O_DIRECTORY, O_NOFOLLOW } = constants;
  const flags = O_NOFOLLOW | (s.kind === 'dir' ? O_RDONLY | O_DIRECTORY : s.writable && !lower ? (s.readable ? O_RDWR : O_WRONLY) : O_RDONLY);
  try {
    hostFd = openSync(target ?? m.hostPath, target === null ? flags & ~O_NOFOLLOW : flags);
  } catch (err) {
    if (isFdExhaustion(err)) throw tooManyFilesError(`reopening fd ${s.fd}`);
    throw new WarrenError('E_SNAPSHOT_INVALID', `cannot reopen ${s.guestPath} (fd ${s.fd}): ${(err as Error).message}`, { fd: s.fd, guestPath: s.guestPath });
  }
  const st = fstatSync(hostFd);
  const isDir = (st.mode & 0o170000) === 0o040000;
  const readOnly = s.readOnly || m.mode === 'ro' || (lower && !isDir) || isReadOnly(st, s.guestPath);
  const { fd: _fd, ...rest } = s;
  return {
    // The canonical path the resolver found: overlay lookups walk it again in the other layer.
    ...rest, mountRel: r === null ? '' : r.mountRel, hostFd, filetype: filetypeOfMode(st.mode),
    hostPath: join(lower ? m.lowerPath! : m.hostPath, s.mountRel),
    writable: s.writable && !readOnly, readOnly, lower, dev: st.dev, ino: st.ino, listing: null, ...dropped,
  };
}
