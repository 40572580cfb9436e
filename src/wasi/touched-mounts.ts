import { OFLAGS } from './abi.js';

/**
 * The syscalls that can change a file or a name, with the positions of their directory or file
 * fd arguments: a call marks those fds' mounts as touched (before it runs: a failed call may have
 * changed something too). path_open changes something only with O_CREAT or O_TRUNC; writes
 * through the fd it opens are fd_write/fd_pwrite calls. A snapshot after calls walks only the
 * mounts they touched (services/instances/take-snapshot.ts).
 */
const MUTATING_FD_ARGS: Readonly<Record<string, readonly number[]>> = {
  fd_write: [0],
  fd_pwrite: [0],
  fd_allocate: [0],
  fd_filestat_set_size: [0],
  fd_filestat_set_times: [0],
  path_create_directory: [0],
  path_filestat_set_times: [0],
  path_link: [0, 4],
  path_remove_directory: [0],
  path_rename: [0, 3],
  path_symlink: [2],
  path_unlink_file: [0],
};

/** path_open(dirfd, dirflags, path, pathLen, oflags, ...): argument 4 is oflags. */
const PATH_OPEN_OFLAGS_ARG = 4;

export interface MutatingCall {
  /** Positions of the fd arguments whose mounts the call may change. */
  fdArgs: readonly number[];
  /** Whether this call, with these first five arguments, changes anything (absent: always). */
  changes?: (args: readonly unknown[]) => boolean;
}

/** How a syscall may change files, or null for one that changes none (stdout writes have no mount: they touch none). */
export function mutatingCall(name: string): MutatingCall | null {
  if (name === 'path_open') return { fdArgs: [0], changes: (args) => (Number(args[PATH_OPEN_OFLAGS_ARG]) & (OFLAGS.CREAT | OFLAGS.TRUNC)) !== 0 };
  const fdArgs = MUTATING_FD_ARGS[name];
  return fdArgs ? { fdArgs } : null;
}
