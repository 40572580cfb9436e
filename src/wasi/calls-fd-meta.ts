import { fdatasyncSync, fstatSync, fsyncSync, ftruncateSync } from 'node:fs';
import { E, Errno, FDFLAGS, FDFLAGS_ALL, FILETYPE, R, undefinedRights } from './abi.js';
import type { Syscall } from './calls-proc.js';
import { closeQuietly, type FdEntry } from './fd-table.js';
import { checkTimeFlags, setTimesFd } from './file-times.js';
import { writeFilestat } from './filestat.js';
import { dropRights, heldBase, heldInheriting, needRight } from './rights.js';
import { isFdTty } from './stdio.js';
import type { WasiContext } from './wasi-context.js';

/** fd_* calls on descriptors themselves: close, renumber, stat, flags, sizes, times, sync, prestat. */
export function fdMetaCalls(ctx: WasiContext): Record<string, Syscall> {
  const stdioType = (e: FdEntry): number => {
    const src = e.kind === 'stdin' ? ctx.stdin.source : e.kind === 'stdout' ? ctx.stdout : ctx.stderr;
    return isFdTty(src) ? FILETYPE.CHARACTER_DEVICE : FILETYPE.UNKNOWN;
  };
  const fileOrDir = (fd: number): FdEntry => {
    const e = ctx.fds.get(fd);
    if (e.kind !== 'file' && e.kind !== 'dir') throw new Errno(E.BADF);
    return e;
  };
  const file = (fd: number): FdEntry => {
    const e = ctx.fds.get(fd);
    if (e.kind !== 'file') throw new Errno(E.BADF);
    return e;
  };
  /** A file fd that still holds `right` (wasmtime's get_file_fd: EBADF for directories and stdio). */
  const fileWith = (fd: number, right: number): FdEntry => {
    const e = file(fd);
    needRight(e, right);
    return e;
  };

  return {
    fd_close: ((fd: number) => {
      const e = ctx.fds.remove(fd);
      if (e.hostFd >= 0) closeQuietly(e.hostFd);
      if (e.kind === 'dir') ctx.resolver.invalidate();
      return E.SUCCESS;
    }) as Syscall,

    fd_renumber: ((from: number, to: number) => {
      const e = ctx.fds.get(from);
      // Renumbering onto an fd that is not open is EBADF, as in wasmtime (WASI test suite's renumber).
      const old = ctx.fds.get(to);
      if (from === to) return E.SUCCESS;
      ctx.fds.remove(to);
      if (old.hostFd >= 0) closeQuietly(old.hostFd);
      if (old.kind === 'dir') ctx.resolver.invalidate();
      ctx.fds.remove(from);
      ctx.fds.set(to, e);
      return E.SUCCESS;
    }) as Syscall,

    fd_fdstat_get: ((fd: number, out: number) => {
      const e = ctx.fds.get(fd);
      const dv = ctx.view();
      let type: number;
      let flags = 0;
      if (e.kind === 'stdin' || e.kind === 'stdout' || e.kind === 'stderr') type = stdioType(e);
      else if (e.preopen !== null) type = FILETYPE.DIRECTORY;
      else {
        type = e.filetype;
        flags = e.fdflags;
      }
      const base = heldBase(e);
      const inheriting = heldInheriting(e);
      dv.setUint8(out, type);
      dv.setUint8(out + 1, 0);
      dv.setUint16(out + 2, flags, true);
      dv.setUint32(out + 4, 0, true);
      dv.setBigUint64(out + 8, BigInt(base), true);
      dv.setBigUint64(out + 16, BigInt(inheriting), true);
      return E.SUCCESS;
    }) as Syscall,

    fd_fdstat_set_flags: ((fd: number, flags: number) => {
      if ((flags & ~FDFLAGS_ALL) !== 0) throw new Errno(E.INVAL);
      const e = fileWith(fd, R.FD_FDSTAT_SET_FLAGS);
      if (flags & (FDFLAGS.DSYNC | FDFLAGS.SYNC | FDFLAGS.RSYNC)) throw new Errno(E.INVAL);
      e.fdflags = flags & (FDFLAGS.APPEND | FDFLAGS.NONBLOCK);
      return E.SUCCESS;
    }) as Syscall,

    fd_fdstat_set_rights: ((fd: number, base: bigint, inheriting: bigint) => {
      if (undefinedRights(base) || undefinedRights(inheriting)) throw new Errno(E.INVAL);
      // wasmtime: EBADF for stdio, whose rights are fixed.
      dropRights(fileOrDir(fd), Number(base), Number(inheriting));
      return E.SUCCESS;
    }) as Syscall,

    fd_filestat_get: ((fd: number, out: number) => {
      const e = ctx.fds.get(fd);
      needRight(e, R.FD_FILESTAT_GET);
      if (e.hostFd < 0) writeFilestat(ctx.view(), out, null, stdioType(e));
      else writeFilestat(ctx.view(), out, fstatSync(e.hostFd, { bigint: true }));
      return E.SUCCESS;
    }) as Syscall,

    fd_filestat_set_size: ((fd: number, size: bigint) => {
      const e = fileWith(fd, R.FD_FILESTAT_SET_SIZE);
      if (!e.writable) throw new Errno(e.readOnly ? E.ROFS : E.BADF);
      const n = Number(size);
      if (ctx.quota) ctx.quota.grow(n - fstatSync(e.hostFd).size);
      ftruncateSync(e.hostFd, n);
      return E.SUCCESS;
    }) as Syscall,

    fd_filestat_set_times: ((fd: number, atim: bigint, mtim: bigint, flags: number) => {
      checkTimeFlags(flags);
      const e = fileOrDir(fd);
      needRight(e, R.FD_FILESTAT_SET_TIMES);
      if (ctx.mounts[e.mount]!.mode === 'ro') throw new Errno(E.ROFS);
      const st = fstatSync(e.hostFd);
      // e.lower: a lower layer's directory (its files are readOnly too) keeps its times.
      if (e.readOnly || e.lower || ctx.readOnly.hasId(st.dev, st.ino)) throw new Errno(E.PERM);
      setTimesFd(e.hostFd, atim, mtim, flags);
      return E.SUCCESS;
    }) as Syscall,

    fd_allocate: ((fd: number) => {
      const e = fileWith(fd, R.FD_ALLOCATE);
      if (e.readOnly) throw new Errno(E.ROFS); // a write call on a read-only file says so first, as every other
      return E.NOTSUP; // as wasmtime: preview1 fd_allocate is not supported
    }) as Syscall,

    fd_advise: ((fd: number, _offset: bigint, _len: bigint, advice: number) => {
      if (advice > 5) throw new Errno(E.INVAL); // an advice the enum lacks is decoded (wiggle) before the fd
      fileWith(fd, R.FD_ADVISE);
      return E.SUCCESS;
    }) as Syscall,

    // wasmtime syncs files only (get_file_fd): a directory fd is EBADF.
    fd_sync: ((fd: number) => (fsyncSync(fileWith(fd, R.FD_SYNC).hostFd), E.SUCCESS)) as Syscall,
    fd_datasync: ((fd: number) => (fdatasyncSync(fileWith(fd, R.FD_DATASYNC).hostFd), E.SUCCESS)) as Syscall,

    fd_prestat_get: ((fd: number, out: number) => {
      const e = ctx.fds.get(fd);
      if (e.preopen === null) throw new Errno(E.BADF);
      const dv = ctx.view();
      dv.setUint32(out, 0, true);
      dv.setUint32(out + 4, Buffer.byteLength(e.preopen), true);
      return E.SUCCESS;
    }) as Syscall,

    fd_prestat_dir_name: ((fd: number, path: number, len: number) => {
      const e = ctx.fds.get(fd);
      if (e.preopen === null) throw new Errno(E.NOTDIR);
      const name = Buffer.from(e.preopen);
      if (name.byteLength > len) throw new Errno(E.NAMETOOLONG);
      ctx.bytes().set(name, path);
      return E.SUCCESS;
    }) as Syscall,
  };
}
