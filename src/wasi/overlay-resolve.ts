import { fstatSync, mkdirSync } from 'node:fs';
import { E, Errno } from './abi.js';
import type { Mount } from './mount-table.js';
import { lstatModeAt, readlinkAt, S_IFDIR, S_IFLNK, S_IFMT } from './open-at.js';
import { checkWalkPath, isLastComponent, MAX_SYMLINK_HOPS, resolvedIn, type BaseDir, type DirHandle, type PathResolver, type Resolved } from './path-resolver.js';

/**
 * Path resolution on an overlay mount (Mount.lowerPath): the mount's own directory (upper) over
 * a shared, read-only tree (lower). The walk keeps one handle per layer for every directory on
 * its way, both from the resolver's cache (so the cache pins and evicts them as any other): a
 * name is looked up in the upper directory first, then in the lower one; a directory both have
 * is both. `..` pops both, so it climbs the guest path of the union; symlinks (the guest's live
 * in the upper layer) are spliced in as PathResolver does, so they resolve through the union
 * and never leave the mount. See docs/decisions.md, "Overlay mounts in the WASI host".
 *
 * Layers are matched by path: a directory's handle in the other layer is found by its
 * mount-relative path. That is sound because what the lower layer holds never moves: a
 * directory present there cannot be renamed or removed in either layer, and a directory only
 * the upper layer has cannot be moved onto a name the lower layer has, so it has no lower part
 * where it is nor where it goes.
 */

export type OverlayMount = Pick<Mount, 'hostPath'> & { lowerPath: string };

const MISSING = 0;
const LINK = 1;
const OTHER = 2;
/** A directory's handle, or why there is none: MISSING, LINK (a symlink), OTHER (not a directory). */
type Lookup = DirHandle | typeof MISSING | typeof LINK | typeof OTHER;

/** `remember`: a miss is kept (PathResolver.knownMissing), as every lookup of the walk does; copy-up's upper walk does not. */
function lookupDir(r: PathResolver, parent: DirHandle, c: string, remember: boolean): Lookup {
  const cached = r.cachedChildDir(parent, c);
  if (cached !== undefined) return cached;
  if (remember && r.knownMissing(parent, c)) return MISSING;
  // lstat first: a name missing from the upper layer is the common case, and the failed
  // openat would cost a thrown error each time.
  const mode = lstatModeAt(parent.fd, parent.path, c);
  if (mode < 0) {
    if (remember) r.noteMissing(parent, c);
    return MISSING;
  }
  const type = mode & S_IFMT;
  if (type === S_IFLNK) return LINK;
  if (type !== S_IFDIR) return OTHER;
  return r.openChildDir(parent, c) ?? LINK;
}

/** The directory at mount-relative `rel` in one layer, walked from that layer's root; null if the layer has none there. */
function dirAt(r: PathResolver, root: string, rel: string): DirHandle | null {
  let d = r.rootDir(root);
  if (rel === '') return d;
  for (const c of rel.split('/')) {
    // rel is a canonical mount-relative path; anything else never walks (a `..` would leave the layer).
    if (d === null || c === '' || c === '.' || c === '..') return null;
    const next = lookupDir(r, d, c, true);
    d = typeof next === 'object' ? next : null;
  }
  return d;
}

/** A directory fd's handles in [upper, lower]: its own fd in its layer, the other layer's found by its path. */
export function layersOf(r: PathResolver, base: BaseDir, m: OverlayMount): [DirHandle | null, DirHandle | null] {
  const own = r.handleOf(base.hostFd, base.hostPath);
  return base.lower ? [dirAt(r, m.hostPath, base.mountRel), own] : [own, dirAt(r, m.lowerPath, base.mountRel)];
}

/** PathResolver.resolve for any mount: the layered walk below for overlay mounts. */
export function resolveInMount(r: PathResolver, base: BaseDir, m: Mount, path: string, follow: boolean, forOpen = false): Resolved {
  return m.lowerPath === undefined ? r.resolve(base, path, follow) : resolveLayered(r, base, m as OverlayMount, path, follow, forOpen);
}

/**
 * `forOpen`: path_open's first resolution. A name whose parent only the lower layer has can
 * only be there, so it is not looked up: `lower` is set and the open itself answers ENOENT
 * (path_open resolves again before making a new name). One fstatat less per open of a shared
 * file, the common case on a worker root.
 */
function resolveLayered(r: PathResolver, base: BaseDir, m: OverlayMount, path: string, follow: boolean, forOpen: boolean): Resolved {
  checkWalkPath(path);
  let queue = path.split('/');
  const stack: string[] = [];
  const [u0, l0] = layersOf(r, base, m);
  const ups: (DirHandle | null)[] = [u0];
  const lows: (DirHandle | null)[] = [l0];
  let hops = 0;
  let name = '';
  for (let i = 0; i < queue.length; i++) {
    const c = queue[i]!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (stack.length === 0) throw new Errno(E.PERM);
      stack.pop();
      ups.pop();
      lows.pop();
      continue;
    }
    const isLast = isLastComponent(queue, i);
    const mustBeDir = isLast && i + 1 < queue.length;
    const pu = ups[ups.length - 1]!;
    const pl = lows[lows.length - 1]!;
    if (isLast && !follow && !mustBeDir) { name = c; break; }
    let linkIn: DirHandle;
    if (!isLast) {
      const up = pu === null ? MISSING : lookupDir(r, pu, c, true);
      if (typeof up === 'object') {
        const low = pl === null ? MISSING : lookupDir(r, pl, c, true);
        stack.push(c);
        ups.push(up);
        lows.push(typeof low === 'object' ? low : null);
        continue;
      }
      if (up === OTHER) throw new Errno(E.NOTDIR);
      if (up === LINK) linkIn = pu!;
      else {
        const low = pl === null ? MISSING : lookupDir(r, pl, c, true);
        if (typeof low === 'object') {
          stack.push(c);
          ups.push(null);
          lows.push(low);
          continue;
        }
        if (low === MISSING) throw new Errno(E.NOENT);
        if (low === OTHER) throw new Errno(E.NOTDIR);
        // A link in the lower layer (a placed tree has none) is spliced like a guest's: never followed out.
        linkIn = pl!;
      }
    } else {
      let where = pu;
      let mode = pu === null ? -1 : lstatModeAt(pu.fd, pu.path, c);
      if (mode < 0 && pl !== null) {
        where = pl;
        mode = lstatModeAt(pl.fd, pl.path, c);
      }
      if (mode < 0 || (mode & S_IFMT) !== S_IFLNK) {
        if (mode >= 0 && mustBeDir && (mode & S_IFMT) !== S_IFDIR) throw new Errno(E.NOTDIR);
        name = c;
        break;
      }
      linkIn = where!;
    }
    // c is a symlink: splice its target in, relative to its own directory (of the union).
    if (++hops > MAX_SYMLINK_HOPS) throw new Errno(E.LOOP);
    const target = readlinkAt(linkIn.fd, linkIn.path, c);
    if (target.startsWith('/')) throw new Errno(E.PERM);
    queue = target.split('/').concat(mustBeDir ? [''] : [], queue.slice(i + 1));
    i = -1;
  }
  if (name === '' && stack.length > 0) {
    name = stack.pop()!;
    ups.pop();
    lows.pop();
  }
  const pu = ups[ups.length - 1]!;
  const pl = lows[lows.length - 1]!;
  // The layer holding the name: upper first. A new name reads as missing from whichever layer
  // has the parent; it is made in the upper one (WasiContext.upperParent).
  let parent: DirHandle;
  let lower = false;
  if (name === '') {
    lower = pu === null;
    parent = pu ?? pl!;
  } else if (pu === null && forOpen) {
    parent = pl!;
    lower = true;
  } else if (pu !== null && lstatModeAt(pu.fd, pu.path, name) >= 0) {
    parent = pu;
  } else if (pl !== null && lstatModeAt(pl.fd, pl.path, name) >= 0) {
    parent = pl;
    lower = true;
  } else {
    parent = pu ?? pl!;
  }
  return resolvedIn(base, path, stack, name, parent, lower, pu, pl);
}

/**
 * The upper layer's directory at mount-relative `rel`, made where missing ("copy-up" of
 * directories only, each with its lower directory's mode): a new name in a directory only the
 * lower layer has lands in the upper one. Files are never copied up: the lower ones are read-only.
 */
export function makeUpperDir(r: PathResolver, m: OverlayMount, rel: string): DirHandle {
  r.upperChanged();
  let u = r.rootDir(m.hostPath);
  if (u === null) throw new Errno(E.NOENT);
  let l = r.rootDir(m.lowerPath);
  if (rel === '') return u;
  for (const c of rel.split('/')) {
    if (c === '' || c === '.' || c === '..') throw new Errno(E.PERM);
    const low = l === null ? MISSING : lookupDir(r, l, c, true);
    l = typeof low === 'object' ? low : null;
    let up = lookupDir(r, u, c, false);
    if (up === MISSING) {
      if (l === null) throw new Errno(E.NOENT);
      mkdirSync(`${u.path}/${c}`, fstatSync(l.fd).mode & 0o777);
      up = lookupDir(r, u, c, false);
    }
    if (typeof up !== 'object') throw new Errno(E.NOTDIR);
    u = up;
  }
  return u;
}
