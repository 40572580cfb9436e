import { constants, fstatSync, ftruncateSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { E, Errno, FDFLAGS, LOOKUP_SYMLINK_FOLLOW, OFLAGS, R, RIGHTS_ALL, filetypeOfMode } from './abi.js';
import type { Syscall } from './calls-proc.js';
import { closeQuietly } from './fd-table.js';
import { raceHooks } from './path-resolver.js';
import type { WasiContext } from './wasi-context.js';

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_DIRECTORY, O_NOFOLLOW } = constants;

/**
 * path_open. The host file is always opened with O_NOFOLLOW (symlinks were followed by the
 * resolver, inside the mount) and never with O_TRUNC: whether the file is read-only is decided
 * on the fstat of the opened fd (its dev:ino, not its name), and only then is it truncated.
 */
export function pathOpenCalls(ctx: WasiContext): Record<string, Syscall> {
  return {
    path_open: ((dirfd: number, dirflags: number, pathPtr: number, pathLen: number, oflags: number,
      rightsBase: bigint, rightsInheriting: bigint, fdflags: number, out: number) => {
      const p = ctx.resolve(dirfd, pathPtr, pathLen, (dirflags & LOOKUP_SYMLINK_FOLLOW) !== 0);
      const rights = Number(rightsBase & BigInt(RIGHTS_ALL));
      const wantWrite = (rights & R.FD_WRITE) !== 0;
      const wantRead = (rights & (R.FD_READ | R.FD_READDIR)) !== 0;
      const creat = (oflags & OFLAGS.CREAT) !== 0;
      const trunc = (oflags & OFLAGS.TRUNC) !== 0;
      const append = (fdflags & FDFLAGS.APPEND) !== 0;
      const mutating = wantWrite || trunc || creat || append;
      if (p.mount.mode === 'ro' && mutating) throw ctx.refuse(p.guestPath, E.ROFS);
      if (ctx.fds.full) throw new Errno(E.MFILE);

      const st = ctx.lstatTarget(p) ?? undefined;
      // The base directory itself is reached through its /proc magic link, which must be followed.
      let flags = p.name === '' ? 0 : O_NOFOLLOW;
      if (st === undefined) {
        if (!creat) throw new Errno(E.NOENT);
        if (ctx.readOnly.hasPath(p.guestPath)) throw ctx.refuse(p.guestPath, E.ROFS);
        flags |= O_CREAT | O_EXCL;
      } else {
        if (creat && (oflags & OFLAGS.EXCL) !== 0) throw new Errno(E.EXIST);
        if (st.isSymbolicLink()) throw new Errno(E.LOOP);
        if ((oflags & OFLAGS.DIRECTORY) !== 0 && !st.isDirectory()) throw new Errno(E.NOTDIR);
        if (st.isDirectory() && (wantWrite || trunc)) throw new Errno(E.ISDIR);
        if (mutating && ctx.isReadOnlyFile(st, p.guestPath)) throw ctx.refuse(p.guestPath, E.ROFS);
      }
      const isDir = st !== undefined && st.isDirectory();
      if (isDir || (oflags & OFLAGS.DIRECTORY) !== 0) flags |= O_DIRECTORY | O_RDONLY;
      else flags |= wantWrite ? (wantRead ? O_RDWR : O_WRONLY) : O_RDONLY;

      if (raceHooks.beforeOpen) raceHooks.beforeOpen(p);
      const hostFd = openSync(p.target, flags, 0o666);
      let entryFd = -1;
      try {
        const fst = fstatSync(hostFd);
        // The authoritative check: whatever name led here, these bytes may be read-only.
        const readOnly = p.mount.mode === 'ro' || ctx.isReadOnlyFile(fst, p.guestPath);
        if (readOnly && mutating) throw ctx.refuse(p.guestPath, E.ROFS);
        if (trunc && fst.isFile() && fst.size > 0) {
          if (ctx.quota) ctx.quota.grow(-fst.size);
          ftruncateSync(hostFd, 0);
        }
        const kind = fst.isDirectory() ? 'dir' : 'file';
        entryFd = ctx.fds.add({
          kind,
          filetype: filetypeOfMode(fst.mode),
          hostFd,
          mount: p.dir.mount,
          mountRel: p.mountRel,
          guestPath: p.guestPath,
          hostPath: join(p.mount.hostPath, p.mountRel),
          offset: 0,
          fdflags: fdflags & (FDFLAGS.APPEND | FDFLAGS.NONBLOCK | FDFLAGS.DSYNC | FDFLAGS.RSYNC | FDFLAGS.SYNC),
          readable: wantRead || kind === 'dir',
          writable: wantWrite && kind === 'file',
          readOnly,
          rightsBase: rights,
          rightsInheriting: Number(rightsInheriting & BigInt(RIGHTS_ALL)),
          preopen: null,
          dev: fst.dev,
          ino: fst.ino,
          listing: null,
        });
      } finally {
        if (entryFd < 0) closeQuietly(hostFd);
      }
      ctx.view().setUint32(out, entryFd, true);
      return E.SUCCESS;
    }) as Syscall,
  };
}
