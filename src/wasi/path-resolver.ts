import { constants, existsSync, openSync } from 'node:fs';
import { E, Errno } from './abi.js';
import { NO_FD_BUDGET, type FdBudget } from './fd-budget.js';
import { closeFd, lstatModeAt, openAt, readlinkAt, S_IFDIR, S_IFLNK, S_IFMT } from './open-at.js';

/** A directory a path is resolved from: an open host fd that is known to lie inside its mount. */
export interface BaseDir {
  hostFd: number;
  /** Host path of the directory (used only where /proc/self/fd is unavailable). */
  hostPath: string;
  mountRel: string;
  /** Overlay mounts: hostFd is a directory of the lower layer (see FdEntry.lower). */
  lower: boolean;
}

/** Where a guest path ended up: `parent` is a host path naming a verified directory. */
export interface Resolved {
  parent: string;
  /** The open fd of `parent`: *at calls relative to it reach exactly the verified directory. */
  parentFd: number;
  /** Final component; '' when the path names the base directory itself. */
  name: string;
  /** `parent/name` (or `parent` when name is ''): use it only for an operation on that last name. */
  target: string;
  /** Canonical path of the target relative to its mount root ('' = the mount root). */
  mountRel: string;
  /**
   * The guest path ends in `/` or `/.` (or is `.`): it names a directory. Calls that make a new
   * name treat such a path as wasmtime (cap-std's open_parent) does: as the directory itself.
   */
  dirSuffix: boolean;
  /**
   * Overlay mounts (overlay-resolve.ts): the name was found in the read-only lower layer, and
   * `parent`/`target` are there; for name '' the base directory has no upper part. Else false.
   * (path_open's first resolution also sets it for a missing name whose parent only the lower
   * layer has: see resolveInMount's `forOpen`.)
   */
  lower: boolean;
  /**
   * The upper layer's directory where a new `name` is made: `parentFd` for a plain mount; -1 on
   * an overlay mount when only the lower layer has the parent (WasiContext.upperParent copies
   * the directory chain up first).
   */
  upperParentFd: number;
  /** Overlay mounts: the lower layer's directory at the parent's path (for name '', at the base's), or -1 / ''. */
  lowerParentFd: number;
  lowerParent: string;
}

export const MAX_SYMLINK_HOPS = 32;
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const CACHE_LIMIT = 128;
const MISSING_LIMIT = 1024;
/**
 * A directory held open during a walk: its fd, the string that reaches it, its cache key, and
 * the last call that used it (`PathResolver.call`): a handle of the current call is pinned.
 */
export interface DirHandle {
  fd: number;
  path: string;
  key: string;
  used: number;
}

const hasProcFd = process.platform === 'linux' && existsSync('/proc/self/fd');

/** `path` ends in `/` or `/.`, or is `.` (cap-std's path_requires_dir). */
export function hasDirSuffix(path: string): boolean {
  const last = path.charCodeAt(path.length - 1);
  if (last === 47) return true;
  return last === 46 && (path.length === 1 || path.charCodeAt(path.length - 2) === 47);
}

/** The host path through which an open fd is reached (openat semantics on Linux). */
export function fdPath(hostFd: number, hostPath: string): string {
  return hasProcFd ? `/proc/self/fd/${hostFd}` : hostPath;
}

/**
 * Test seams for race tests: `afterResolve` runs when a path has been walked, `beforeOpen` when
 * path_open has checked the final name and is about to open it. Null outside tests.
 */
export const raceHooks: { afterResolve: ((r: Resolved) => void) | null; beforeOpen: ((r: Resolved) => void) | null } = {
  afterResolve: null,
  beforeOpen: null,
};

/** What every walk refuses before it starts: an empty path (ENOENT), an absolute one (EPERM), a NUL (EINVAL). */
export function checkWalkPath(path: string): void {
  if (path.length === 0) throw new Errno(E.NOENT);
  if (path.charCodeAt(0) === 47) throw new Errno(E.PERM);
  if (path.includes('\0')) throw new Errno(E.INVAL);
}

/** True when no component after `queue[i]` names anything (only `''` and `.` follow). */
export function isLastComponent(queue: readonly string[], i: number): boolean {
  for (let j = i + 1; j < queue.length; j++) {
    const n = queue[j];
    if (n !== '' && n !== '.') return false;
  }
  return true;
}

/**
 * What a walk ends with: `name` in the directory `parent` (in the layer `lower` says), at
 * `stack` below the base. One place builds every Resolved, so they all have one shape.
 */
export function resolvedIn(
  base: BaseDir,
  path: string,
  stack: readonly string[],
  name: string,
  parent: DirHandle,
  lower: boolean,
  upperParent: DirHandle | null,
  lowerParent: DirHandle | null,
): Resolved {
  const parentRel = (base.mountRel === '' ? stack : [base.mountRel, ...stack]).join('/');
  const mountRel = name === '' ? parentRel : parentRel === '' ? name : `${parentRel}/${name}`;
  const resolved = {
    parent: parent.path, parentFd: parent.fd, name, target: name === '' ? parent.path : `${parent.path}/${name}`, mountRel,
    dirSuffix: hasDirSuffix(path), lower, upperParentFd: upperParent === null ? -1 : upperParent.fd,
    lowerParentFd: lowerParent === null ? -1 : lowerParent.fd, lowerParent: lowerParent === null ? '' : lowerParent.path,
    // Empty slots for the fields WasiContext.resolve adds with `{ ...r, dir, mount, guestPath }`:
    // on Node 20's V8, adding properties to a spread clone misses its IC every time (a large
    // part of an open/read/close, docs/decisions.md); overwriting existing ones does not.
    dir: undefined, mount: undefined, guestPath: '',
  };
  if (raceHooks.afterResolve) raceHooks.afterResolve(resolved);
  return resolved;
}

/**
 * Resolves guest paths one component at a time. Every directory on the way is opened with
 * O_NOFOLLOW relative to its parent's fd (openat through the native addon, else through
 * /proc/self/fd/N, which behaves like openat), so a component swapped for a symlink after it was
 * checked cannot lead outside: the walk never hands a path string containing an unchecked
 * directory to the kernel. Symlinks are followed by us, inside the base directory, with a hop
 * limit; `..` past the base and absolute targets are EPERM, as cap-std (wasmtime) reports escapes.
 */
export class PathResolver {
  private readonly dirCache = new Map<string, DirHandle>();
  /** Cache keys of the directories rootDir opened by host path. */
  private readonly rootKeys = new Map<string, string>();
  /**
   * Overlay mounts: cache keys of names found missing in a layer's directory (in the upper one,
   * the walk then goes on in the lower one; in a lower one, an upper-only directory has no lower
   * part). The lower layer never changes, and only the guest changes its upper layer while it
   * runs: every call of it that makes a name clears this first (upperChanged), so an entry is
   * never stale for the guest.
   */
  private readonly missing = new Set<string>();
  /** The node-wide budget of guest host fds: each cached directory fd counts in it. */
  budget: FdBudget = NO_FD_BUDGET;
  /**
   * Number of the current call. Every handle a call walks through is stamped with it and stays
   * open until the call ends: the walk's `..` stack and the Resolved it returns (link and rename
   * hold two) use the fds, and a closed fd's number is handed to the next open, for another
   * directory. So only handles of earlier calls are evicted, least recently used first; a call
   * that needs more than CACHE_LIMIT grows the cache, and the next call trims it back.
   */
  private call = 1;

  /** Marks a syscall boundary: what earlier calls resolved is no longer in use. */
  beginCall(): void {
    this.call++;
    if (this.dirCache.size > CACHE_LIMIT) this.budget.give(this.evict(this.dirCache.size - CACHE_LIMIT));
  }

  resolve(base: BaseDir, path: string, follow: boolean): Resolved {
    checkWalkPath(path);
    let queue = path.split('/');
    const stack: string[] = [];
    const dirs: DirHandle[] = [this.handleOf(base.hostFd, base.hostPath)];
    let hops = 0;
    let name = '';
    for (let i = 0; i < queue.length; i++) {
      const c = queue[i]!;
      if (c === '' || c === '.') continue;
      if (c === '..') {
        if (stack.length === 0) throw new Errno(E.PERM);
        stack.pop();
        dirs.pop();
        continue;
      }
      const isLast = isLastComponent(queue, i);
      const mustBeDir = isLast && i + 1 < queue.length;
      const parent = dirs[dirs.length - 1]!;
      if (isLast && !follow && !mustBeDir) { name = c; break; }
      if (!isLast) {
        const child = this.openChildDir(parent, c);
        if (child !== null) {
          stack.push(c);
          dirs.push(child);
          continue;
        }
      } else {
        const mode = lstatModeAt(parent.fd, parent.path, c);
        if (mode < 0) { name = c; break; }
        if ((mode & S_IFMT) !== S_IFLNK) {
          if (mustBeDir && (mode & S_IFMT) !== S_IFDIR) throw new Errno(E.NOTDIR);
          name = c;
          break;
        }
      }
      // c is a symlink: splice its target in, relative to its own directory.
      if (++hops > MAX_SYMLINK_HOPS) throw new Errno(E.LOOP);
      const target = readlinkAt(parent.fd, parent.path, c);
      if (target.startsWith('/')) throw new Errno(E.PERM);
      queue = target.split('/').concat(mustBeDir ? [''] : [], queue.slice(i + 1));
      i = -1;
    }
    if (name === '' && stack.length > 0) {
      name = stack.pop()!;
      dirs.pop();
    }
    const parent = dirs[dirs.length - 1]!;
    return resolvedIn(base, path, stack, name, parent, false, parent, null);
  }

  /** The cached handle of directory `c` under `parent` (stamped for this call), if there is one. */
  cachedChildDir(parent: DirHandle, c: string): DirHandle | undefined {
    return this.cachedAt(`${parent.key}/${c}`);
  }

  /** The cached handle under `key`, stamped as used by this call (so eviction spares it). */
  private cachedAt(key: string): DirHandle | undefined {
    const cached = this.dirCache.get(key);
    if (cached !== undefined) cached.used = this.call;
    return cached;
  }

  /** True when `parent` had no `c` at the last look (see `missing`). */
  knownMissing(parent: DirHandle, c: string): boolean {
    return this.missing.size !== 0 && this.missing.has(`${parent.key}/${c}`);
  }

  noteMissing(parent: DirHandle, c: string): void {
    if (this.missing.size >= MISSING_LIMIT) this.missing.clear();
    this.missing.add(`${parent.key}/${c}`);
  }

  /** The guest is about to make a name in an upper layer: what was missing there may not be anymore. */
  upperChanged(): void {
    this.missing.clear();
  }

  /** Opens (or reuses) directory `c` under `parent` without following a symlink; null if it is one. */
  openChildDir(parent: DirHandle, c: string): DirHandle | null {
    const key = `${parent.key}/${c}`;
    const cached = this.cachedAt(key);
    if (cached !== undefined) return cached;
    let fd: number;
    try {
      fd = openAt(parent.fd, parent.path, c, DIR_FLAGS);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ELOOP' || code === 'ENOTDIR') {
        const mode = lstatModeAt(parent.fd, parent.path, c);
        if (mode < 0) throw new Errno(E.NOENT);
        if ((mode & S_IFMT) === S_IFLNK) return null;
        throw new Errno(E.NOTDIR);
      }
      throw err;
    }
    return this.cache(key, fd, `${parent.path}/${c}`);
  }

  /**
   * A directory the host names by path (an overlay layer's root), cached like the directories
   * below it; null when it does not exist. Its cache key is short (`r<n>`, one per path), as
   * every key below it starts with it.
   */
  rootDir(hostPath: string): DirHandle | null {
    let key = this.rootKeys.get(hostPath);
    if (key === undefined) {
      key = `r${this.rootKeys.size}`;
      this.rootKeys.set(hostPath, key);
    }
    const cached = this.cachedAt(key);
    if (cached !== undefined) return cached;
    let fd: number;
    try {
      fd = openSync(hostPath, DIR_FLAGS);
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return null;
      throw err;
    }
    return this.cache(key, fd, hostPath);
  }

  /** Caches a directory fd just opened. Full: it takes the budget slot of an evicted one; if every handle is pinned, a new slot. */
  private cache(key: string, fd: number, hostPath: string): DirHandle {
    const swapped = this.dirCache.size >= CACHE_LIMIT && this.evict(1) === 1;
    if (!swapped && !this.budget.take()) {
      closeFd(fd);
      throw new Errno(E.MFILE);
    }
    const dir: DirHandle = { fd, path: fdPath(fd, hostPath), key, used: this.call };
    this.dirCache.set(key, dir);
    return dir;
  }

  /** A handle for a directory fd the caller holds (a guest's fd): pinned for this call, never cached. */
  handleOf(hostFd: number, hostPath: string): DirHandle {
    return { fd: hostFd, path: fdPath(hostFd, hostPath), key: `${hostFd}`, used: this.call };
  }

  /** Closes up to `n` least recently used handles that the current call does not hold; returns how many. */
  private evict(n: number): number {
    const free: DirHandle[] = [];
    for (const d of this.dirCache.values()) if (d.used !== this.call) free.push(d);
    if (n === 1 && free.length > 1) {
      let lru = free[0]!;
      for (const d of free) if (d.used < lru.used) lru = d;
      free[0] = lru;
    } else free.sort((a, b) => a.used - b.used);
    const count = Math.min(n, free.length);
    for (let i = 0; i < count; i++) {
      this.dirCache.delete(free[i]!.key);
      closeFd(free[i]!.fd);
    }
    return count;
  }

  /** Drops cached directory fds: after a rename or rmdir a cached path may name another directory. */
  invalidate(): void {
    for (const dir of this.dirCache.values()) closeFd(dir.fd);
    this.budget.give(this.dirCache.size);
    this.dirCache.clear();
    this.rootKeys.clear();
    this.missing.clear();
  }
}
