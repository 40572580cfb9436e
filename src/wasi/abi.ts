/**
 * wasi_snapshot_preview1 numbers: errnos, flags, rights, filetypes and struct layouts
 * (from the witx in WebAssembly/WASI legacy/preview1). Plain constants so the hot paths stay
 * monomorphic.
 */
export const E = {
  SUCCESS: 0, TOOBIG: 1, ACCES: 2, AGAIN: 6, BADF: 8, BUSY: 10, EXIST: 20, FAULT: 21, FBIG: 22,
  ILSEQ: 25, INTR: 27, INVAL: 28, IO: 29, ISDIR: 31, LOOP: 32, MFILE: 33, MLINK: 34,
  NAMETOOLONG: 37, NFILE: 41, NODEV: 43, NOENT: 44, NOMEM: 48, NOSPC: 51, NOSYS: 52, NOTDIR: 54,
  NOTEMPTY: 55, NOTSOCK: 57, NOTSUP: 58, NOTTY: 59, NXIO: 60, OVERFLOW: 61, PERM: 63, PIPE: 64,
  RANGE: 68, ROFS: 69, SPIPE: 70, TXTBSY: 74, XDEV: 75, NOTCAPABLE: 76, DQUOT: 19,
} as const;

export const FILETYPE = {
  UNKNOWN: 0, BLOCK_DEVICE: 1, CHARACTER_DEVICE: 2, DIRECTORY: 3, REGULAR_FILE: 4,
  SOCKET_DGRAM: 5, SOCKET_STREAM: 6, SYMBOLIC_LINK: 7,
} as const;

export const OFLAGS = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;
export const FDFLAGS = { APPEND: 1, DSYNC: 2, NONBLOCK: 4, RSYNC: 8, SYNC: 16 } as const;
/** Every bit these flag types define: wasmtime (wiggle) answers EINVAL to any other. */
export const OFLAGS_ALL = 0xf;
export const FDFLAGS_ALL = 0x1f;
/** sock_shutdown's sdflags (RD, WR) and sock_recv's riflags (RECV_PEEK, RECV_WAITALL). */
export const SDFLAGS_ALL = 0x3;
export const RIFLAGS_ALL = 0x3;
export const LOOKUP_SYMLINK_FOLLOW = 1;
export const FSTFLAGS = { ATIM: 1, ATIM_NOW: 2, MTIM: 4, MTIM_NOW: 8 } as const;
export const WHENCE = { SET: 0, CUR: 1, END: 2 } as const;
export const CLOCK = { REALTIME: 0, MONOTONIC: 1, PROCESS_CPUTIME: 2, THREAD_CPUTIME: 3 } as const;
export const EVENTTYPE = { CLOCK: 0, FD_READ: 1, FD_WRITE: 2 } as const;
export const EVENT_FD_READWRITE_HANGUP = 1;
export const SUBCLOCK_ABSTIME = 1;

/** Rights are below 2^30, so plain numbers hold them. */
export const R = {
  FD_DATASYNC: 1 << 0, FD_READ: 1 << 1, FD_SEEK: 1 << 2, FD_FDSTAT_SET_FLAGS: 1 << 3, FD_SYNC: 1 << 4,
  FD_TELL: 1 << 5, FD_WRITE: 1 << 6, FD_ADVISE: 1 << 7, FD_ALLOCATE: 1 << 8,
  PATH_CREATE_DIRECTORY: 1 << 9, PATH_CREATE_FILE: 1 << 10, PATH_LINK_SOURCE: 1 << 11,
  PATH_LINK_TARGET: 1 << 12, PATH_OPEN: 1 << 13, FD_READDIR: 1 << 14, PATH_READLINK: 1 << 15,
  PATH_RENAME_SOURCE: 1 << 16, PATH_RENAME_TARGET: 1 << 17, PATH_FILESTAT_GET: 1 << 18,
  PATH_FILESTAT_SET_SIZE: 1 << 19, PATH_FILESTAT_SET_TIMES: 1 << 20, FD_FILESTAT_GET: 1 << 21,
  FD_FILESTAT_SET_SIZE: 1 << 22, FD_FILESTAT_SET_TIMES: 1 << 23, PATH_SYMLINK: 1 << 24,
  PATH_REMOVE_DIRECTORY: 1 << 25, PATH_UNLINK_FILE: 1 << 26, POLL_FD_READWRITE: 1 << 27,
  SOCK_SHUTDOWN: 1 << 28, SOCK_ACCEPT: 1 << 29,
} as const;
export const RIGHTS_ALL = (1 << 30) - 1;
const RIGHTS_ALL_BIG = BigInt(RIGHTS_ALL);
/** A rights argument with bits preview1 does not define (compared, not shifted: no BigInt made per call). */
export function undefinedRights(rights: bigint): boolean {
  return rights < 0n || rights > RIGHTS_ALL_BIG;
}

/** What wasmtime reports for a preopened directory (many userlands expect exactly this). */
export const PREOPEN_RIGHTS_BASE =
  R.PATH_CREATE_DIRECTORY | R.PATH_CREATE_FILE | R.PATH_LINK_SOURCE | R.PATH_LINK_TARGET | R.PATH_OPEN |
  R.FD_READDIR | R.PATH_READLINK | R.PATH_RENAME_SOURCE | R.PATH_RENAME_TARGET | R.PATH_SYMLINK |
  R.PATH_REMOVE_DIRECTORY | R.PATH_UNLINK_FILE | R.PATH_FILESTAT_GET | R.PATH_FILESTAT_SET_TIMES |
  R.FD_FILESTAT_GET | R.FD_FILESTAT_SET_TIMES;
export const PREOPEN_RIGHTS_INHERITING =
  PREOPEN_RIGHTS_BASE | R.FD_DATASYNC | R.FD_READ | R.FD_SEEK | R.FD_FDSTAT_SET_FLAGS | R.FD_SYNC |
  R.FD_TELL | R.FD_WRITE | R.FD_ADVISE | R.FD_ALLOCATE | R.FD_FILESTAT_GET | R.FD_FILESTAT_SET_SIZE |
  R.FD_FILESTAT_SET_TIMES | R.POLL_FD_READWRITE;

/** Thrown inside a syscall to return an errno; caught once at the import boundary. */
export class Errno {
  constructor(readonly errno: number) {}
}

const hostToWasi: Record<string, number> = {
  E2BIG: E.TOOBIG, EACCES: E.ACCES, EAGAIN: E.AGAIN, EWOULDBLOCK: E.AGAIN, EBADF: E.BADF, EBUSY: E.BUSY,
  EEXIST: E.EXIST, EFAULT: E.FAULT, EFBIG: E.FBIG, EILSEQ: E.ILSEQ, EINTR: E.INTR, EINVAL: E.INVAL,
  EIO: E.IO, EISDIR: E.ISDIR, ELOOP: E.LOOP, EMFILE: E.MFILE, EMLINK: E.MLINK,
  ENAMETOOLONG: E.NAMETOOLONG, ENFILE: E.NFILE, ENODEV: E.NODEV, ENOENT: E.NOENT, ENOMEM: E.NOMEM,
  ENOSPC: E.NOSPC, ENOSYS: E.NOSYS, ENOTDIR: E.NOTDIR, ENOTEMPTY: E.NOTEMPTY, ENOTSUP: E.NOTSUP,
  EOPNOTSUPP: E.NOTSUP, ENOTTY: E.NOTTY, ENXIO: E.NXIO, EOVERFLOW: E.OVERFLOW, EPERM: E.PERM,
  EPIPE: E.PIPE, ERANGE: E.RANGE, EROFS: E.ROFS, ESPIPE: E.SPIPE, ETXTBSY: E.TXTBSY, EXDEV: E.XDEV,
  EDQUOT: E.DQUOT,
};

/** Maps a Node fs error to a WASI errno; anything that is not a host errno is rethrown (a host bug). */
export function errnoOf(err: unknown): number {
  if (err instanceof Errno) return err.errno;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && !code.startsWith('ERR_')) {
    const e = hostToWasi[code];
    if (e !== undefined) return e;
    if (code.startsWith('E')) return E.IO;
  }
  throw err;
}

export function filetypeOfMode(mode: number): number {
  switch (mode & 0o170000) {
    case 0o100000: return FILETYPE.REGULAR_FILE;
    case 0o040000: return FILETYPE.DIRECTORY;
    case 0o120000: return FILETYPE.SYMBOLIC_LINK;
    case 0o020000: return FILETYPE.CHARACTER_DEVICE;
    case 0o060000: return FILETYPE.BLOCK_DEVICE;
    case 0o140000: return FILETYPE.SOCKET_STREAM;
    default: return FILETYPE.UNKNOWN;
  }
}
