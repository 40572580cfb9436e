import { linkSync, lstatSync, mkdirSync, readlinkSync, renameSync, rmdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { E, Errno, LOOKUP_SYMLINK_FOLLOW, R } from './abi.js';
import type { Syscall } from './calls-proc.js';
import { checkTimeFlags, setTimesAt, setTimesFd } from './file-times.js';
import { writeFilestat } from './filestat.js';
import { checkLinksMovedTo, depthOf, parentOf, symlinkStaysInMount } from './link-containment.js';
import type { GuestPath, WasiContext } from './wasi-context.js';

/**
 * path_* calls other than path_open. Every change to a name is checked against the mount mode
 * (EROFS) and the read-only set (EPERM for unlink, rename from/over, link, symlink over, set
 * times), keyed by the lstat identity of the name, never by host permission bits. On an overlay
 * mount, whatever the lower layer holds is refused the same way, and a new name is made in the
 * upper layer (WasiContext.upperParent).
 */
export function pathCalls(ctx: WasiContext): Record<string, Syscall> {
  const existing = (p: GuestPath) => {
    if (p.name === '') throw new Errno(E.BUSY);
    return lstatSync(p.target);
  };
  /**
   * A new name (path_link, path_symlink) ending in `/` or `/.` names a directory that must
   * already exist, so making it fails: wasmtime (cap-std's open_parent) opens the whole path as
   * the parent and makes "." in it, giving ENOENT when it is missing, ENOTDIR when it is a file
   * (the resolver's error) and EEXIST when it is a directory.
   */
  const refuseDirSuffix = (p: GuestPath): void => {
    if (p.dirSuffix) throw new Errno(ctx.lstatTarget(p) ? E.EXIST : E.NOENT);
  };
  /** Lookup flags with bits preview1 lacks are EINVAL (wiggle), before the path is looked at. */
  const lookup = (flags: number): boolean => {
    if ((flags & ~LOOKUP_SYMLINK_FOLLOW) !== 0) throw new Errno(E.INVAL);
    return flags !== 0;
  };

  return {
    path_create_directory: ((fd: number, ptr: number, len: number) => {
      const p = ctx.resolve(fd, ptr, len, false, R.PATH_CREATE_DIRECTORY);
      if (p.name === '') throw new Errno(E.EXIST);
      if (p.mount.mode === 'ro') throw new Errno(E.ROFS);
      if (ctx.readOnly.hasPath(p.guestPath)) throw new Errno(E.PERM);
      if (p.lower) throw new Errno(E.EXIST);
      ctx.upperParent(p);
      mkdirSync(p.target);
      return E.SUCCESS;
    }) as Syscall,

    path_filestat_get: ((fd: number, flags: number, ptr: number, len: number, out: number) => {
      const p = ctx.resolve(fd, ptr, len, lookup(flags), R.PATH_FILESTAT_GET);
      writeFilestat(ctx.view(), out, ctx.lstatTargetBig(p));
      return E.SUCCESS;
    }) as Syscall,

    path_filestat_set_times: ((fd: number, flags: number, ptr: number, len: number, atim: bigint, mtim: bigint, fst: number) => {
      checkTimeFlags(fst);
      const p = ctx.resolve(fd, ptr, len, lookup(flags), R.PATH_FILESTAT_SET_TIMES);
      const st = ctx.lstatTarget(p);
      ctx.checkMutable(p, st, E.PERM, false);
      // A missing name is ENOENT: without this the null stat threw a TypeError through the guest.
      if (!st) throw new Errno(E.NOENT);
      // Without SYMLINK_FOLLOW a symlink's own times are set; with it the resolver has followed
      // it inside the mount, so the name set here is never a symlink to follow.
      if (p.name === '') setTimesFd(p.parentFd, atim, mtim, fst);
      else setTimesAt(p.parentFd, p.parent, p.name, atim, mtim, fst);
      return E.SUCCESS;
    }) as Syscall,

    path_link: ((oldFd: number, oldFlags: number, oldPtr: number, oldLen: number, newFd: number, newPtr: number, newLen: number) => {
      // wasmtime refuses to follow a symlink for link(2) (its link_at): EINVAL once both fds are directories.
      if (lookup(oldFlags)) {
        ctx.dirEntry(oldFd);
        ctx.dirEntry(newFd);
        throw new Errno(E.INVAL);
      }
      const src = ctx.resolve(oldFd, oldPtr, oldLen, false, R.PATH_LINK_SOURCE);
      const dst = ctx.resolve(newFd, newPtr, newLen, false, R.PATH_LINK_TARGET);
      const st = existing(src);
      if (st.isDirectory()) throw new Errno(E.PERM);
      // A new name for bytes of a ro mount or a read-only file would be a writable name for them
      // (or a read-only name the set cannot follow across a restore), so both are refused.
      if (src.mount.mode === 'ro') throw new Errno(E.ROFS);
      if (ctx.isReadOnlyName(src, st)) throw new Errno(E.PERM);
      if (dst.mount.mode === 'ro') throw new Errno(E.ROFS);
      if (src.dir.mount !== dst.dir.mount) throw new Errno(E.XDEV);
      refuseDirSuffix(dst);
      const dstSt = dst.name === '' ? lstatSync(dst.target) : lstatSync(dst.target, { throwIfNoEntry: false });
      if (dstSt) throw new Errno(ctx.isReadOnlyName(dst, dstSt) ? E.PERM : E.EXIST);
      if (ctx.readOnly.hasPath(dst.guestPath)) throw new Errno(E.PERM);
      // link(2) does not follow: a new name for a symlink is the link at a new place.
      if (st.isSymbolicLink() && !symlinkStaysInMount(parentOf(dst.mountRel), readlinkSync(src.target))) throw new Errno(E.PERM);
      ctx.upperParent(dst);
      linkSync(src.target, dst.target);
      const made = lstatSync(dst.target);
      if (ctx.isReadOnlyFile(made, dst.guestPath)) {
        unlinkSync(dst.target); // the source was swapped for a read-only file meanwhile
        throw new Errno(E.PERM);
      }
      return E.SUCCESS;
    }) as Syscall,

    path_readlink: ((fd: number, ptr: number, len: number, buf: number, bufLen: number, out: number) => {
      const p = ctx.resolve(fd, ptr, len, false, R.PATH_READLINK);
      if (p.name === '') throw new Errno(E.INVAL); // never reveal the host path behind a handle
      const link = Buffer.from(readlinkSync(p.target), 'utf8');
      const n = Math.min(link.byteLength, bufLen);
      ctx.bytes().set(link.subarray(0, n), buf);
      ctx.view().setUint32(out, n, true);
      return E.SUCCESS;
    }) as Syscall,

    path_remove_directory: ((fd: number, ptr: number, len: number) => {
      const p = ctx.resolve(fd, ptr, len, false, R.PATH_REMOVE_DIRECTORY);
      if (p.name === '') throw new Errno(E.INVAL);
      const st = lstatSync(p.target);
      // A directory the lower layer has cannot go: refused as rmdir(2) would if it held its lower entries.
      if (p.mount.mode === 'rw' && st.isDirectory() && ctx.inLowerLayer(p)) throw new Errno(ctx.lowerDirErrno(p));
      ctx.checkMutable(p, st, E.PERM, true);
      if (!st.isDirectory()) throw new Errno(E.NOTDIR);
      rmdirSync(p.target);
      ctx.resolver.invalidate();
      return E.SUCCESS;
    }) as Syscall,

    path_rename: ((oldFd: number, oldPtr: number, oldLen: number, newFd: number, newPtr: number, newLen: number) => {
      const src = ctx.resolve(oldFd, oldPtr, oldLen, false, R.PATH_RENAME_SOURCE);
      const dst = ctx.resolve(newFd, newPtr, newLen, false, R.PATH_RENAME_TARGET);
      const st = existing(src);
      ctx.checkMutable(src, st, E.PERM, true);
      if (dst.name === '') throw new Errno(E.BUSY);
      if (dst.mount.mode === 'ro') throw new Errno(E.ROFS);
      const dstSt = lstatSync(dst.target, { throwIfNoEntry: false }) ?? null;
      ctx.checkMutable(dst, dstSt, E.PERM, true);
      if (ctx.readOnly.hasPath(dst.guestPath)) throw new Errno(E.PERM);
      // A relative link points elsewhere once moved: it must stay in the mount from its new place.
      if (st.isSymbolicLink() && !symlinkStaysInMount(parentOf(dst.mountRel), readlinkSync(src.target))) throw new Errno(E.PERM);
      if (st.isDirectory() && (src.dir.mount !== dst.dir.mount || depthOf(dst.mountRel) < depthOf(src.mountRel))) {
        checkLinksMovedTo(src.target, dst.mountRel);
      }
      const replaced = dstSt && dstSt.isFile() && dstSt.nlink === 1 && dstSt.ino !== st.ino ? dstSt.size : 0;
      ctx.upperParent(dst);
      renameSync(src.target, dst.target);
      ctx.resolver.invalidate();
      if (ctx.quota && replaced > 0) ctx.quota.grow(-replaced);
      return E.SUCCESS;
    }) as Syscall,

    path_symlink: ((oldPtr: number, oldLen: number, fd: number, newPtr: number, newLen: number) => {
      const target = ctx.readString(oldPtr, oldLen);
      const p = ctx.resolve(fd, newPtr, newLen, false, R.PATH_SYMLINK);
      if (p.mount.mode === 'ro') throw new Errno(E.ROFS);
      refuseDirSuffix(p);
      const st = p.name === '' ? lstatSync(p.target) : lstatSync(p.target, { throwIfNoEntry: false });
      if (st) throw new Errno(ctx.isReadOnlyName(p, st) ? E.PERM : E.EXIST);
      if (ctx.readOnly.hasPath(p.guestPath)) throw new Errno(E.PERM);
      // A link that could only ever point outside is refused when made, not just when followed:
      // host-side tools (archives, file APIs) may read the tree later.
      if (!symlinkStaysInMount(parentOf(p.mountRel), target)) throw new Errno(E.PERM);
      ctx.upperParent(p);
      symlinkSync(target, p.target);
      return E.SUCCESS;
    }) as Syscall,

    path_unlink_file: ((fd: number, ptr: number, len: number) => {
      const p = ctx.resolve(fd, ptr, len, false, R.PATH_UNLINK_FILE);
      const st = existing(p);
      if (st.isDirectory()) throw new Errno(E.ISDIR);
      ctx.checkMutable(p, st, E.PERM, false);
      unlinkSync(p.target);
      if (ctx.quota && st.isFile() && st.nlink === 1) ctx.quota.grow(-st.size);
      return E.SUCCESS;
    }) as Syscall,
  };
}
