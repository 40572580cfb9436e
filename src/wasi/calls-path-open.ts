import { constants, fstatSync, ftruncateSync, lstatSync, openSync } from 'node:fs';
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
      const follow = (dirflags & LOOKUP_SYMLINK_FOLLOW) !== 0;
      const rights = Number(rightsBase & BigInt(RIGHTS_ALL));
      const wantWrite = (rights & R.FD_WRITE) !== 0;
      const wantRead = (rights & (R.FD_READ | R.FD_READDIR)) !== 0;
      const creat = (oflags & OFLAGS.CREAT) !== 0;
      const excl = (oflags & OFLAGS.EXCL) !== 0;
      const trunc = (oflags & OFLAGS.TRUNC) !== 0;
      const append = (fdflags & FDFLAGS.APPEND) !== 0;
      const mutating = wantWrite || trunc || creat || append;
      // Fast path: the last name is opened with O_NOFOLLOW; only when it is a symlink and the
      // guest asked to follow is the path walked again with the resolver following it.
      let p = ctx.resolve(dirfd, pathPtr, pathLen, false);
      if (p.mount.mode === 'ro' && mutating) throw ctx.refuse(p.guestPath, E.ROFS);
      if (ctx.fds.full) throw new Errno(E.MFILE);
      let flags = (oflags & OFLAGS.DIRECTORY) !== 0 ? O_DIRECTORY | O_RDONLY : wantWrite ? (wantRead ? O_RDWR : O_WRONLY) : O_RDONLY;
      let created = false;
      let hostFd = -1;
      for (let attempt = 0; hostFd < 0; attempt++) {
        // The base directory itself is reached through its /proc magic link, which must be followed.
        const nofollow = p.name === '' ? 0 : O_NOFOLLOW;
        try {
          if (raceHooks.beforeOpen) raceHooks.beforeOpen(p);
          hostFd = openSync(p.target, flags | nofollow);
        } catch (err) {
          const code = (err as { code?: string }).code;
          // With O_DIRECTORY, Linux reports a final symlink as ENOTDIR rather than ELOOP.
          const isLink = code === 'ELOOP' || (code === 'ENOTDIR' && (flags & O_DIRECTORY) !== 0 && p.name !== '' && lstatSync(p.target, { throwIfNoEntry: false })?.isSymbolicLink() === true);
          if (isLink && follow && attempt === 0) {
            p = ctx.resolve(dirfd, pathPtr, pathLen, true);
            if (p.mount.mode === 'ro' && mutating) throw ctx.refuse(p.guestPath, E.ROFS);
            continue;
          }
          if (code === 'ENOENT' && creat && !created && p.name !== '') {
            if (ctx.readOnly.hasPath(p.guestPath)) throw ctx.refuse(p.guestPath, E.ROFS);
            flags |= O_CREAT | O_EXCL;
            created = true;
            hostFd = openSync(p.target, flags | nofollow, 0o666);
            break;
          }
          throw err;
        }
      }
      let entryFd = -1;
      try {
        const fst = fstatSync(hostFd);
        // The authoritative check: whatever name led here, these bytes may be read-only.
        if (creat && excl && !created) throw new Errno(E.EXIST);
        const isDir = fst.isDirectory();
        if ((oflags & OFLAGS.DIRECTORY) !== 0 && !isDir) throw new Errno(E.NOTDIR);
        if (isDir && (wantWrite || trunc)) throw new Errno(E.ISDIR);
        const readOnly = p.mount.mode === 'ro' || ctx.isReadOnlyFile(fst, p.guestPath);
        if (readOnly && mutating) throw ctx.refuse(p.guestPath, E.ROFS);
        if (trunc && fst.isFile() && fst.size > 0) {
          if (ctx.quota) ctx.quota.grow(-fst.size);
          ftruncateSync(hostFd, 0);
        }
        const kind = isDir ? 'dir' : 'file';
        entryFd = ctx.fds.add({
          kind,
          filetype: filetypeOfMode(fst.mode),
          hostFd,
          mount: p.dir.mount,
          mountRel: p.mountRel,
          guestPath: p.guestPath,
          hostPath: p.mountRel === '' ? p.mount.hostPath : `${p.mount.hostPath}/${p.mountRel}`,
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
