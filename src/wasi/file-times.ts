import { fstatSync, futimesSync, lstatSync, lutimesSync } from 'node:fs';
import { AT_SYMLINK_NOFOLLOW, nativeFs, UTIME_NOW_NS, UTIME_OMIT_NS } from '../native/native-fs.js';
import { E, Errno, FSTFLAGS } from './abi.js';

/**
 * fd_filestat_set_times / path_filestat_set_times as wasmtime does them: times to the
 * nanosecond with futimens/utimensat (wasmtime's systimespec; a time not asked for is
 * UTIME_OMIT, so it is left exactly as it is), and the name's own times, never a symlink's
 * target (the resolver has already followed links inside the mount when the guest asked to).
 *
 * Without the native addon, Node's fs.utimes takes seconds as a double, which holds about a
 * quarter of a microsecond at today's dates. The fallback then truncates to the microsecond, as
 * wasmtime's fs-set-times does where only utimes(2) exists (tv_usec = nsec / 1000): half a
 * microsecond is added so that libuv, which truncates the double to whole microseconds, lands
 * on that microsecond and not the one below.
 */

const NS = 1_000_000_000n;

/**
 * EINVAL for a time both set and set to now, or for bits fstflags does not have. Called first,
 * before the fd or path is looked at: wasmtime decodes the flags (wiggle) before anything else.
 */
export function checkTimeFlags(flags: number): void {
  if ((flags & ~(FSTFLAGS.ATIM | FSTFLAGS.ATIM_NOW | FSTFLAGS.MTIM | FSTFLAGS.MTIM_NOW)) !== 0) throw new Errno(E.INVAL);
  if ((flags & FSTFLAGS.ATIM && flags & FSTFLAGS.ATIM_NOW) || (flags & FSTFLAGS.MTIM && flags & FSTFLAGS.MTIM_NOW)) {
    throw new Errno(E.INVAL);
  }
}

/** [seconds, nanoseconds] for the addon: nanoseconds UTIME_NOW_NS / UTIME_OMIT_NS for now / unchanged. */
function spec(flags: number, set: number, setNow: number, ts: bigint): [number, number] {
  if (flags & setNow) return [0, UTIME_NOW_NS];
  if (flags & set) return [Number(ts / NS), Number(ts % NS)];
  return [0, UTIME_OMIT_NS];
}

/** Seconds as a double that libuv turns back into the microsecond of `ns` (see above). */
function fallbackSeconds(ns: bigint): number {
  return (Number(ns / 1000n) + 0.5) / 1e6;
}

function fallbackTimes(current: { atimeNs: bigint; mtimeNs: bigint }, atim: bigint, mtim: bigint, flags: number): [number, number] {
  const now = Date.now() / 1000;
  const pick = (set: number, setNow: number, value: bigint, cur: bigint): number =>
    flags & setNow ? now : fallbackSeconds(flags & set ? value : cur);
  return [pick(FSTFLAGS.ATIM, FSTFLAGS.ATIM_NOW, atim, current.atimeNs), pick(FSTFLAGS.MTIM, FSTFLAGS.MTIM_NOW, mtim, current.mtimeNs)];
}

export function setTimesFd(hostFd: number, atim: bigint, mtim: bigint, flags: number): void {
  if (nativeFs) {
    const [as, an] = spec(flags, FSTFLAGS.ATIM, FSTFLAGS.ATIM_NOW, atim);
    const [ms, mn] = spec(flags, FSTFLAGS.MTIM, FSTFLAGS.MTIM_NOW, mtim);
    nativeFs.futimens(hostFd, as, an, ms, mn);
    return;
  }
  const [a, m] = fallbackTimes(fstatSync(hostFd, { bigint: true }), atim, mtim, flags);
  futimesSync(hostFd, a, m);
}

/** The times of `name` itself in the directory `dirFd` (reachable as `dirPath`), never following it. */
export function setTimesAt(dirFd: number, dirPath: string, name: string, atim: bigint, mtim: bigint, flags: number): void {
  if (nativeFs) {
    const [as, an] = spec(flags, FSTFLAGS.ATIM, FSTFLAGS.ATIM_NOW, atim);
    const [ms, mn] = spec(flags, FSTFLAGS.MTIM, FSTFLAGS.MTIM_NOW, mtim);
    nativeFs.utimensat(dirFd, name, as, an, ms, mn, AT_SYMLINK_NOFOLLOW);
    return;
  }
  const path = `${dirPath}/${name}`;
  const [a, m] = fallbackTimes(lstatSync(path, { bigint: true }), atim, mtim, flags);
  lutimesSync(path, a, m);
}
