import { fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, futimesSync } from 'node:fs';
import { E, Errno, FDFLAGS, FILETYPE, PREOPEN_RIGHTS_BASE, PREOPEN_RIGHTS_INHERITING, R, RIGHTS_ALL } from './abi.js';
import type { Syscall } from './calls-proc.js';
import { closeQuietly, type FdEntry } from './fd-table.js';
import { requestedTimes, writeFilestat } from './filestat.js';
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

  return {
    fd_close: ((fd: number) => {
      const e = ctx.fds.remove(fd);
      if (e.hostFd >= 0) closeQuietly(e.hostFd);
      if (e.kind === 'dir') ctx.resolver.invalidate();
      return E.SUCCESS;
    }) as Syscall,

    fd_renumber: ((from: number, to: number) => {
      const e = ctx.fds.get(from);
      if (from === to) return E.SUCCESS;
      const old = ctx.fds.entries[to];
      if (old) {
        ctx.fds.remove(to);
        if (old.hostFd >= 0) closeQuietly(old.hostFd);
        if (old.kind === 'dir') ctx.resolver.invalidate();
      }
      ctx.fds.remove(from);
      ctx.fds.set(to, e);
      return E.SUCCESS;
    }) as Syscall,

    fd_fdstat_get: ((fd: number, out: number) => {
      const e = ctx.fds.get(fd);
      const dv = ctx.view();
      let type: number;
      let flags = 0;
      let base: number;
      let inheriting: number;
      if (e.kind === 'stdin' || e.kind === 'stdout' || e.kind === 'stderr') {
        type = stdioType(e);
        base = inheriting = e.kind === 'stdin' ? R.FD_READ : R.FD_WRITE;
      } else if (e.preopen !== null) {
        type = FILETYPE.DIRECTORY;
        base = PREOPEN_RIGHTS_BASE;
        inheriting = PREOPEN_RIGHTS_INHERITING;
      } else {
        type = e.filetype;
        base = RIGHTS_ALL;
        if (e.kind === 'dir') base &= ~(R.FD_SEEK | R.FD_FILESTAT_SET_SIZE);
        if (!e.readable) base &= ~(R.FD_READ | R.FD_READDIR);
        if (!e.writable) base &= ~R.FD_WRITE;
        inheriting = base;
        flags = e.fdflags;
      }
      dv.setUint8(out, type);
      dv.setUint8(out + 1, 0);
      dv.setUint16(out + 2, flags, true);
      dv.setUint32(out + 4, 0, true);
      dv.setBigUint64(out + 8, BigInt(base), true);
      dv.setBigUint64(out + 16, BigInt(inheriting), true);
      return E.SUCCESS;
    }) as Syscall,

    fd_fdstat_set_flags: ((fd: number, flags: number) => {
      const e = file(fd);
      if (flags & (FDFLAGS.DSYNC | FDFLAGS.SYNC | FDFLAGS.RSYNC)) throw new Errno(E.INVAL);
      e.fdflags = flags & (FDFLAGS.APPEND | FDFLAGS.NONBLOCK);
      return E.SUCCESS;
    }) as Syscall,

    fd_fdstat_set_rights: ((fd: number) => (ctx.fds.get(fd), E.SUCCESS)) as Syscall,

    fd_filestat_get: ((fd: number, out: number) => {
      const e = ctx.fds.get(fd);
      if (e.hostFd < 0) writeFilestat(ctx.view(), out, null, stdioType(e));
      else writeFilestat(ctx.view(), out, fstatSync(e.hostFd, { bigint: true }));
      return E.SUCCESS;
    }) as Syscall,

    fd_filestat_set_size: ((fd: number, size: bigint) => {
      const e = file(fd);
      if (!e.writable) throw new Errno(e.readOnly ? E.ROFS : E.BADF);
      const n = Number(size);
      if (ctx.quota) ctx.quota.grow(n - fstatSync(e.hostFd).size);
      ftruncateSync(e.hostFd, n);
      return E.SUCCESS;
    }) as Syscall,

    fd_filestat_set_times: ((fd: number, atim: bigint, mtim: bigint, flags: number) => {
      const e = fileOrDir(fd);
      if (ctx.mounts[e.mount]!.mode === 'ro') throw new Errno(E.ROFS);
      const st = fstatSync(e.hostFd);
      if (e.readOnly || ctx.readOnly.hasId(st.dev, st.ino)) throw new Errno(E.PERM);
      const [a, m] = requestedTimes(st, atim, mtim, flags);
      futimesSync(e.hostFd, a, m);
      return E.SUCCESS;
    }) as Syscall,

    fd_allocate: ((fd: number) => {
      const e = file(fd);
      if (e.readOnly) throw new Errno(E.ROFS);
      return E.NOTSUP; // as wasmtime: preview1 fd_allocate is not supported
    }) as Syscall,

    fd_advise: ((fd: number, _offset: bigint, _len: bigint, advice: number) => {
      file(fd);
      return advice > 5 ? E.INVAL : E.SUCCESS;
    }) as Syscall,

    fd_sync: ((fd: number) => (fsyncSync(fileOrDir(fd).hostFd), E.SUCCESS)) as Syscall,
    fd_datasync: ((fd: number) => (fdatasyncSync(fileOrDir(fd).hostFd), E.SUCCESS)) as Syscall,

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
