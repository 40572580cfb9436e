import { availableParallelism } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { nativeFs } from '../native/native-fs.js';

/**
 * Many mkdir/link/copy syscalls in one native call (the addon's fileBatch), off the event loop:
 * lanes (a libuv pool thread and pthreads, each kept on a CPU of its own) link or copy files,
 * each on its stretch of the list, making directories as their files need them. Measured for
 * 1,000 links into 10 directories on ext4 (2 cores, ~9 us of kernel time per link): one lane
 * ~9.5 ms, two ~5 ms, three or four no better; linkSync one by one ~12 ms plus its JS.
 */

/** Threads per batch. */
export const BATCH_THREADS = Math.max(1, Math.min(2, availableParallelism()));

export const DIR_EXISTS = -1;
export const DIR_ENSURE = -2;

/** True when batches can run (the addon is loaded); callers keep a per-entry path otherwise. */
export const batchesAvailable = nativeFs !== null;

export interface FileBatch {
  /** Host directories to make, parents first. */
  dirs: readonly string[];
  srcs: readonly string[];
  dsts: readonly string[];
  /** 1 where srcs[i] is copied to dsts[i] (a new file of the copy mode), 0 where it is linked. */
  copies: Uint8Array;
  /**
   * parents[j]: 1 + the index in `dirs` of dirs[j]'s parent; 0 if the parent exists already;
   * DIR_EXISTS if dirs[j] itself exists already (it is used, not made); DIR_ENSURE if it is to
   * be made unless it is a directory already (mkdir -p of one level).
   */
  parents: Int32Array;
  /** needs[i]: 1 + the index in `dirs` of the directory file i goes in, 0 if it exists already. */
  needs: Int32Array;
}

export interface FailedFile {
  index: number;
  /** A Node-style fs error (`code` 'EXDEV', 'ENOENT'...), as linkSync or copyFile would throw. */
  error: NodeJS.ErrnoException;
}

export interface FileBatchResult {
  /**
   * The first directory (in list order) that could not be made. Files that needed it were not
   * placed; `failed` is left empty then, as the batch as a whole failed.
   */
  dirError: { index: number; error: NodeJS.ErrnoException } | null;
  failed: FailedFile[];
}

function fsError(errno: number, syscall: string, path: string, dest?: string): NodeJS.ErrnoException {
  const code = getSystemErrorName(-errno);
  const err: NodeJS.ErrnoException = new Error(`${code}: ${syscall} '${path}'${dest === undefined ? '' : ` -> '${dest}'`}`);
  err.code = code;
  err.errno = -errno;
  err.syscall = syscall;
  err.path = path;
  if (dest !== undefined) (err as { dest?: string }).dest = dest;
  return err;
}

/** Runs a batch; every failure is reported, none thrown (the caller decides what is fatal). */
export async function runFileBatch(batch: FileBatch, dirMode: number, copyMode: number): Promise<FileBatchResult> {
  if (!nativeFs) throw new Error('runFileBatch without the native addon');
  const { dirs, parents, srcs, dsts, copies, needs } = batch;
  if (srcs.length !== dsts.length) throw new Error('runFileBatch: srcs and dsts differ in length');
  // NUL-joined: the addon splits on NUL and checks the counts, so a path holding a NUL fails the call.
  const errnos = await nativeFs.fileBatch(
    dirs.join('\0'), dirs.length, dirMode, srcs.join('\0'), dsts.join('\0'), srcs.length, copies, needs, copyMode, BATCH_THREADS, parents,
  );
  for (let i = 0; i < dirs.length; i++) {
    // Callers stop at a directory error, so the files are not looked at (nor an error made for each).
    if (errnos[i] !== 0) return { dirError: { index: i, error: fsError(errnos[i]!, 'mkdir', dirs[i]!) }, failed: [] };
  }
  const failed: FailedFile[] = [];
  for (let i = 0; i < srcs.length; i++) {
    const errno = errnos[dirs.length + i]!;
    if (errno !== 0) failed.push({ index: i, error: fsError(errno, copies[i] ? 'copyfile' : 'link', srcs[i]!, dsts[i]!) });
  }
  return { dirError: null, failed };
}
