import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync } from 'node:fs';
import { AT_SYMLINK_NOFOLLOW, nativeFs, STAT } from '../native/native-fs.js';

/**
 * Operations on one name inside a directory the host holds open (`dirFd`, reachable as the
 * string `dirPath`). With the native addon they are real openat/fstatat/readlinkat on the fd;
 * without it they go through `dirPath/name`, where dirPath is /proc/self/fd/N (see fdPath), which
 * the kernel resolves like openat, only slower. Same results either way, so the resolver's
 * checks do not depend on which one runs.
 */

const native = nativeFs;
const { O_NOFOLLOW } = constants;
const lstatBuf = new Float64Array(STAT.SLOTS);

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

/** The lstat mode of `name` in the directory, or -1 when there is no such name. */
export function lstatModeAt(dirFd: number, dirPath: string, name: string): number {
  if (native) return native.fstatat(dirFd, name, AT_SYMLINK_NOFOLLOW, lstatBuf) ? lstatBuf[STAT.MODE]! : -1;
  return lstatSync(`${dirPath}/${name}`, { throwIfNoEntry: false })?.mode ?? -1;
}

/** Opens `name` in the directory; the caller passes O_NOFOLLOW where it wants it. */
export function openAt(dirFd: number, dirPath: string, name: string, flags: number, mode = 0o666): number {
  if (native) return native.openat(dirFd, name, flags, mode);
  return openSync(`${dirPath}/${name}`, flags, mode);
}

export function readlinkAt(dirFd: number, dirPath: string, name: string): string {
  if (native) return native.readlinkat(dirFd, name);
  return readlinkSync(`${dirPath}/${name}`);
}

/**
 * Opens `name` in the directory with O_NOFOLLOW and writes the fstat of the new fd into `out`
 * (STAT slots). `name` '' opens the directory itself, which through /proc means following its
 * magic link (so no O_NOFOLLOW there); with openat it is ".", which is no symlink.
 */
export function openStatAt(dirFd: number, dirPath: string, name: string, flags: number, mode: number, out: Float64Array): number {
  if (native) return native.openatStat(dirFd, name === '' ? '.' : name, flags | O_NOFOLLOW, mode, out);
  const fd = name === '' ? openSync(dirPath, flags, mode) : openSync(`${dirPath}/${name}`, flags | O_NOFOLLOW, mode);
  try {
    const st = fstatSync(fd);
    out[STAT.MODE] = st.mode;
    out[STAT.DEV] = st.dev;
    out[STAT.INO] = st.ino;
    out[STAT.SIZE] = st.size;
    out[STAT.NLINK] = st.nlink;
  } catch (err) {
    try {
      closeFd(fd);
    } catch {
      // the fstat error is the one to report
    }
    throw err;
  }
  return fd;
}

/**
 * Closes a host fd with whatever opened it: the addon's close for fds it opened, fs.closeSync
 * for the rest. Mixing them would upset Node's bookkeeping of the fds a worker thread opened
 * (which it closes when the worker ends): always close WASI host fds through here.
 */
export function closeFd(fd: number): void {
  if (native === null || !native.close(fd)) closeSync(fd);
}
