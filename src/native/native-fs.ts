import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The native addon (native/warren_fs.c): the *at syscalls Node's fs lacks. It is hand-written
 * because Node has no openat/fstatat/readlinkat (nodejs/node#31110, open since 2019) and no
 * maintained npm package provides openat; the WASI host needs it to resolve paths from the
 * directory fds it holds. It also sets file times
 * to the nanosecond (utimensat/futimens), which fs.utimes cannot: it takes seconds as a double.
 *
 * Loaded once per thread; `nativeFs` is null when the addon was not built (no compiler, not
 * Linux), failed to load, or WARREN_NO_NATIVE=1 is set. Every caller keeps a pure-JS path for
 * that case, with the same results, only slower. Errors thrown by it look like Node's fs
 * errors (`code` 'ENOENT'..., negative `errno`, `syscall`, `path`).
 */
export interface NativeFs {
  /** openat(2), always O_CLOEXEC. */
  openat(dirFd: number, path: string, flags: number, mode: number): number;
  /** openat(2) then fstat(2) of the new fd into `out` (see STAT), in one call. */
  openatStat(dirFd: number, path: string, flags: number, mode: number, out: Float64Array): number;
  /** fstatat(2) into `out`; false when the name does not exist (ENOENT). */
  fstatat(dirFd: number, path: string, flags: number, out: Float64Array): boolean;
  readlinkat(dirFd: number, path: string): string;
  /**
   * utimensat(2) and futimens(2) to the nanosecond: each time is whole seconds and nanoseconds;
   * nanoseconds UTIME_NOW_NS means now, UTIME_OMIT_NS leaves that time as it is.
   */
  utimensat(dirFd: number, path: string, atimeSec: number, atimeNsec: number, mtimeSec: number, mtimeNsec: number, flags: number): void;
  futimens(fd: number, atimeSec: number, atimeNsec: number, mtimeSec: number, mtimeNsec: number): void;
  /**
   * Closes `fd` if this addon opened it (in this thread) and returns true; returns false and
   * leaves it alone otherwise (close those with fs.closeSync). Fds it opened that are still open
   * when the thread ends are closed then, as Node does for fs.open in workers.
   */
  close(fd: number): boolean;
}

/** Slots of the Float64Array filled by openatStat/fstatat. dev and ino are doubles converted as
 * fs.Stats converts them, so `${dev}:${ino}` keys match keys made from Stats (ReadOnlySet). */
export const STAT = { MODE: 0, DEV: 1, INO: 2, SIZE: 3, NLINK: 4, SLOTS: 5 } as const;
/** The nanoseconds that stand for UTIME_NOW and UTIME_OMIT in utimensat/futimens. */
export const UTIME_NOW_NS = -1;
export const UTIME_OMIT_NS = -2;
/** fcntl.h's AT_SYMLINK_NOFOLLOW (Linux); fs.constants does not export it. */
export const AT_SYMLINK_NOFOLLOW = 0x100;

const addonPath = fileURLToPath(new URL('../../../native/build/Release/warren_fs.node', import.meta.url));

function load(): { fs: NativeFs | null; reason: string } {
  if (process.env.WARREN_NO_NATIVE === '1') return { fs: null, reason: 'disabled by WARREN_NO_NATIVE=1' };
  if (process.platform !== 'linux') return { fs: null, reason: `no addon for ${process.platform}` };
  if (!existsSync(addonPath)) return { fs: null, reason: `not built (${addonPath} is missing; npm run native)` };
  try {
    return { fs: createRequire(import.meta.url)(addonPath) as NativeFs, reason: 'loaded' };
  } catch (err) {
    return { fs: null, reason: `failed to load: ${(err as Error).message}` };
  }
}

const loaded = load();

export const nativeFs: NativeFs | null = loaded.fs;

/** Whether the addon is in use, and why not: for logs, `warren` diagnostics and the CI check. */
export const nativeFsStatus: { readonly loaded: boolean; readonly reason: string } = { loaded: loaded.fs !== null, reason: loaded.reason };
