import { futimesSync, linkSync, lstatSync, lutimesSync, mkdirSync, readlinkSync, renameSync, rmdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { E, Errno, LOOKUP_SYMLINK_FOLLOW } from './abi.js';
import type { Syscall } from './calls-proc.js';
import { requestedTimes, writeFilestat } from './filestat.js';
import { checkLinksMovedTo, depthOf, parentOf, symlinkStaysInMount } from './link-containment.js';
import type { GuestPath, WasiContext } from './wasi-context.js';

/**
 * path_* calls other than path_open. Every change to a name is checked against the mount mode
 * (EROFS) and the read-only set (EPERM for unlink, rename from/over, link, symlink over, set
 * times), keyed by the lstat identity of the name, never by host permission bits.
 */
export function pathCalls(ctx: WasiContext): Record<string, Syscall> {
  const existing = (p: GuestPath) => {
    if (p.name === '') throw new Errno(E.BUSY);
    return lstatSync(p.target);
  };

  return {
    path_create_directory: ((fd: number, ptr: number, len: number) => {
      const p = ctx.resolve(fd, ptr, len, false);
      if (p.name === '') throw new Errno(E.EXIST);
      if (p.mount.mode === 'ro') throw new Errno(E.ROFS);
      if (ctx.readOnly.hasPath(p.guestPath)) throw new Errno(E.PERM);
      mkdirSync(p.target);
      return E.SUCCESS;
    }) as Syscall,

    path_filestat_get: ((fd: number, flags: number, ptr: number, len: number, out: number) => {
      const p = ctx.resolve(fd, ptr, len, (flags & LOOKUP_SYMLINK_FOLLOW) !== 0);
      writeFilestat(ctx.view(), out, ctx.lstatTargetBig(p));
      return E.SUCCESS;
    }) as Syscall,

    path_filestat_set_times: ((fd: number, flags: number, ptr: number, len: number, atim: bigint, mtim: bigint, fst: number) => {
      const p = ctx.resolve(fd, ptr, len, (flags & LOOKUP_SYMLINK_FOLLOW) !== 0);
      const st = ctx.lstatTarget(p);
      ctx.checkMutable(p, st, E.PERM, false);
      // A missing name is ENOENT: without this the null stat threw a TypeError through the guest.
      if (!st) throw new Errno(E.NOENT);
      const [a, m] = requestedTimes(st, atim, mtim, fst);
      if (p.name === '') futimesSync(p.dir.hostFd, a, m);
      else lutimesSync(p.target, a, m); // never follows: the resolver already did, inside the mount
      return E.SUCCESS;
    }) as Syscall,

    path_link: ((oldFd: number, oldFlags: number, oldPtr: number, oldLen: number, newFd: number, newPtr: number, newLen: number) => {
      const src = ctx.resolve(oldFd, oldPtr, oldLen, (oldFlags & LOOKUP_SYMLINK_FOLLOW) !== 0);
      const dst = ctx.resolve(newFd, newPtr, newLen, false);
      const st = existing(src);
      if (st.isDirectory()) throw new Errno(E.PERM);
      // A new name for bytes of a ro mount or a read-only file would be a writable name for them
      // (or a read-only name the set cannot follow across a restore), so both are refused.
      if (src.mount.mode === 'ro') throw new Errno(E.ROFS);
      if (ctx.isReadOnlyFile(st, src.guestPath)) throw new Errno(E.PERM);
      if (dst.mount.mode === 'ro') throw new Errno(E.ROFS);
      if (src.dir.mount !== dst.dir.mount) throw new Errno(E.XDEV);
      const dstSt = dst.name === '' ? lstatSync(dst.target) : lstatSync(dst.target, { throwIfNoEntry: false });
      if (dstSt) throw new Errno(ctx.isReadOnlyFile(dstSt, dst.guestPath) ? E.PERM : E.EXIST);
      if (ctx.readOnly.hasPath(dst.guestPath)) throw new Errno(E.PERM);
      // link(2) does not follow: a new name for a symlink is the link at a new place.
      if (st.isSymbolicLink() && !symlinkStaysInMount(parentOf(dst.mountRel), readlinkSync(src.target))) throw new Errno(E.PERM);
      linkSync(src.target, dst.target);
      const made = lstatSync(dst.target);
      if (ctx.isReadOnlyFile(made, dst.guestPath)) {
        unlinkSync(dst.target); // the source was swapped for a read-only file meanwhile
        throw new Errno(E.PERM);
      }
      return E.SUCCESS;
    }) as Syscall,

    path_readlink: ((fd: number, ptr: number, len: number, buf: number, bufLen: number, out: number) => {
      const p = ctx.resolve(fd, ptr, len, false);
      if (p.name === '') throw new Errno(E.INVAL); // never reveal the host path behind a handle
      const link = Buffer.from(readlinkSync(p.target), 'utf8');
      const n = Math.min(link.byteLength, bufLen);
      ctx.bytes().set(link.subarray(0, n), buf);
      ctx.view().setUint32(out, n, true);
      return E.SUCCESS;
    }) as Syscall,

    path_remove_directory: ((fd: number, ptr: number, len: number) => {
      const p = ctx.resolve(fd, ptr, len, false);
      if (p.name === '') throw new Errno(E.INVAL);
      const st = lstatSync(p.target);
      ctx.checkMutable(p, st, E.PERM, true);
      if (!st.isDirectory()) throw new Errno(E.NOTDIR);
      rmdirSync(p.target);
      ctx.resolver.invalidate();
      return E.SUCCESS;
    }) as Syscall,

    path_rename: ((oldFd: number, oldPtr: number, oldLen: number, newFd: number, newPtr: number, newLen: number) => {
      const src = ctx.resolve(oldFd, oldPtr, oldLen, false);
      const dst = ctx.resolve(newFd, newPtr, newLen, false);
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
      renameSync(src.target, dst.target);
      ctx.resolver.invalidate();
      if (ctx.quota && replaced > 0) ctx.quota.grow(-replaced);
      return E.SUCCESS;
    }) as Syscall,

    path_symlink: ((oldPtr: number, oldLen: number, fd: number, newPtr: number, newLen: number) => {
      const target = ctx.readString(oldPtr, oldLen);
      const p = ctx.resolve(fd, newPtr, newLen, false);
      if (p.mount.mode === 'ro') throw new Errno(E.ROFS);
      const st = p.name === '' ? lstatSync(p.target) : lstatSync(p.target, { throwIfNoEntry: false });
      if (st) throw new Errno(ctx.isReadOnlyFile(st, p.guestPath) ? E.PERM : E.EXIST);
      if (ctx.readOnly.hasPath(p.guestPath)) throw new Errno(E.PERM);
      // A link that could only ever point outside is refused when made, not just when followed:
      // host-side tools (archives, file APIs) may read the tree later.
      if (!symlinkStaysInMount(parentOf(p.mountRel), target)) throw new Errno(E.PERM);
      symlinkSync(target, p.target);
      return E.SUCCESS;
    }) as Syscall,

    path_unlink_file: ((fd: number, ptr: number, len: number) => {
      const p = ctx.resolve(fd, ptr, len, false);
      const st = existing(p);
      if (st.isDirectory()) throw new Errno(E.ISDIR);
      ctx.checkMutable(p, st, E.PERM, false);
      unlinkSync(p.target);
      if (ctx.quota && st.isFile() && st.nlink === 1) ctx.quota.grow(-st.size);
      return E.SUCCESS;
    }) as Syscall,
  };
}
