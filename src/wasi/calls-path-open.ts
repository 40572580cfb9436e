import { constants, ftruncateSync } from 'node:fs';
import { STAT } from '../native/native-fs.js';
import { E, Errno, FDFLAGS, FDFLAGS_ALL, LOOKUP_SYMLINK_FOLLOW, OFLAGS, OFLAGS_ALL, R, filetypeOfMode, undefinedRights } from './abi.js';
import type { Syscall } from './calls-proc.js';
import { closeQuietly } from './fd-table.js';
import { lstatModeAt, openStatAt, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from './open-at.js';
import { raceHooks } from './path-resolver.js';
import { needRight } from './rights.js';
import type { WasiContext } from './wasi-context.js';

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_DIRECTORY } = constants;

const hostPathOf = (root: string, mountRel: string): string => (mountRel === '' ? root : `${root}/${mountRel}`);

/**
 * path_open. The host file is always opened with O_NOFOLLOW (symlinks were followed by the
 * resolver, inside the mount) and never with O_TRUNC: whether the file is read-only is decided
 * on the fstat of the opened fd (its dev:ino, not its name), and only then is it truncated.
 * The open is relative to the resolved parent's fd, and the open and its fstat are one native
 * call when the addon is there (no Stats object per open).
 */
export function pathOpenCalls(ctx: WasiContext): Record<string, Syscall> {
  const st = new Float64Array(STAT.SLOTS);
  // Handed to isReadOnlyFile for a non-directory: its dev:ino are the opened fd's.
  const opened = { dev: 0, ino: 0, isDirectory: () => false };
  return {
    path_open: ((dirfd: number, dirflags: number, pathPtr: number, pathLen: number, oflags: number,
      rightsBase: bigint, rightsInheriting: bigint, fdflags: number, out: number) => {
      // Flags and rights with bits preview1 does not define are EINVAL before anything else (wiggle).
      if ((dirflags & ~LOOKUP_SYMLINK_FOLLOW) !== 0 || (oflags & ~OFLAGS_ALL) !== 0 || (fdflags & ~FDFLAGS_ALL) !== 0 ||
        undefinedRights(rightsBase) || undefinedRights(rightsInheriting)) throw new Errno(E.INVAL);
      const dir = ctx.dirEntry(dirfd);
      needRight(dir, R.PATH_OPEN);
      const follow = (dirflags & LOOKUP_SYMLINK_FOLLOW) !== 0;
      // Rights the directory no longer passes on are not granted, whatever is asked for.
      const rights = Number(rightsBase) & ~dir.inheritingDropped;
      const wantWrite = (rights & R.FD_WRITE) !== 0;
      // wasmtime opens for reading only when FD_READ is asked for (a directory too: without it,
      // it reports no FD_READ/FD_READDIR, yet lists).
      const wantRead = (rights & R.FD_READ) !== 0;
      const creat = (oflags & OFLAGS.CREAT) !== 0;
      const excl = (oflags & OFLAGS.EXCL) !== 0;
      const trunc = (oflags & OFLAGS.TRUNC) !== 0;
      const append = (fdflags & FDFLAGS.APPEND) !== 0;
      const mutating = wantWrite || trunc || creat || append;
      if (creat) needRight(dir, R.PATH_CREATE_FILE);
      if (trunc) needRight(dir, R.PATH_FILESTAT_SET_SIZE);
      // Fast path: the last name is opened with O_NOFOLLOW; only when it is a symlink and the
      // guest asked to follow is the path walked again with the resolver following it.
      let p = ctx.resolve(dirfd, pathPtr, pathLen, false, 0, true);
      let followed = false;
      if (p.mount.mode === 'ro' && mutating) throw ctx.refuse(p.guestPath, E.ROFS);
      if (ctx.fds.full) throw new Errno(E.MFILE);
      // O_TRUNC without FD_WRITE truncates too (Linux does for O_RDONLY|O_TRUNC, which wasmtime
      // opens; the WASI test suite's truncation_rights), so the host fd is opened for writing
      // then; the guest's fd stays read-only (`writable` below).
      const hostWrite = wantWrite || trunc;
      let flags = (oflags & OFLAGS.DIRECTORY) !== 0 ? O_DIRECTORY | O_RDONLY : hostWrite ? (wantRead ? O_RDWR : O_WRONLY) : O_RDONLY;
      let created = false;
      let hostFd = -1;
      for (let attempt = 0; hostFd < 0; attempt++) {
        try {
          if (raceHooks.beforeOpen) raceHooks.beforeOpen(p);
          // A name of an overlay's lower layer is opened read-only whatever is asked: the checks
          // below then refuse write intents as for a read-only file.
          hostFd = openStatAt(p.parentFd, p.parent, p.name, p.lower ? flags & O_DIRECTORY : flags, 0, st);
        } catch (err) {
          const code = (err as { code?: string }).code;
          // With O_DIRECTORY, Linux reports a final symlink as ENOTDIR rather than ELOOP.
          const isLink = code === 'ELOOP' || (code === 'ENOTDIR' && (flags & O_DIRECTORY) !== 0 && p.name !== '' && (lstatModeAt(p.parentFd, p.parent, p.name) & S_IFMT) === S_IFLNK);
          if (isLink && follow && attempt === 0) {
            p = ctx.resolve(dirfd, pathPtr, pathLen, true, 0, true);
            followed = true;
            if (p.mount.mode === 'ro' && mutating) throw ctx.refuse(p.guestPath, E.ROFS);
            continue;
          }
          if (code === 'ENOENT' && creat && !created && p.name !== '') {
            if (ctx.readOnly.hasPath(p.guestPath)) throw ctx.refuse(p.guestPath, E.ROFS);
            // Resolved for opening, a missing name under a lower-only parent reads as lower: look again.
            if (p.lower) p = ctx.resolve(dirfd, pathPtr, pathLen, followed);
            if (p.lower) throw err;
            ctx.upperParent(p);
            flags |= O_CREAT | O_EXCL;
            created = true;
            hostFd = openStatAt(p.parentFd, p.parent, p.name, flags, 0o666, st);
            break;
          }
          throw err;
        }
      }
      let entryFd = -1;
      try {
        // The authoritative check: whatever name led here, these bytes may be read-only.
        if (creat && excl && !created) throw new Errno(E.EXIST);
        const mode = st[STAT.MODE]!;
        const isDir = (mode & S_IFMT) === S_IFDIR;
        if ((oflags & OFLAGS.DIRECTORY) !== 0 && !isDir) throw new Errno(E.NOTDIR);
        if (isDir && (wantWrite || trunc)) throw new Errno(E.ISDIR);
        opened.dev = st[STAT.DEV]!;
        opened.ino = st[STAT.INO]!;
        const readOnly = p.mount.mode === 'ro' || (p.lower && !isDir) || ctx.isReadOnlyFile(isDir ? null : opened, p.guestPath);
        if (readOnly && mutating) throw ctx.refuse(p.guestPath, E.ROFS);
        const size = st[STAT.SIZE]!;
        if (trunc && (mode & S_IFMT) === S_IFREG && size > 0) {
          if (ctx.quota) ctx.quota.grow(-size);
          ftruncateSync(hostFd, 0);
        }
        const kind = isDir ? 'dir' : 'file';
        entryFd = ctx.fds.add({
          kind,
          filetype: filetypeOfMode(mode),
          hostFd,
          mount: p.dir.mount,
          mountRel: p.mountRel,
          guestPath: p.guestPath,
          hostPath: hostPathOf(p.lower ? p.mount.lowerPath! : p.mount.hostPath, p.mountRel),
          offset: 0,
          fdflags: fdflags & (FDFLAGS.APPEND | FDFLAGS.NONBLOCK | FDFLAGS.DSYNC | FDFLAGS.RSYNC | FDFLAGS.SYNC),
          readable: wantRead,
          writable: wantWrite && kind === 'file',
          readOnly,
          lower: p.lower,
          rightsDropped: dir.inheritingDropped,
          inheritingDropped: dir.inheritingDropped,
          preopen: null,
          dev: opened.dev,
          ino: opened.ino,
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
