import { E, Errno, PREOPEN_RIGHTS_BASE, PREOPEN_RIGHTS_INHERITING, R, RIGHTS_ALL } from './abi.js';
import type { FdEntry } from './fd-table.js';

/**
 * preview1 rights. An fd starts with the rights wasmtime's fd_fdstat_get reports for it (fixed
 * sets for stdio and preopens, every right but those its kind or open mode rules out for the
 * rest); fd_fdstat_set_rights can only drop some of them, and what was dropped is kept in the
 * entry (`rightsDropped`, `inheritingDropped`), so a later call that needs it fails and
 * fd_fdstat_get no longer reports it. A right dropped from a directory's inheriting rights is
 * dropped in every fd opened from it. Rights the guest never had are not enforced beyond what
 * the open mode and the mounts already enforce: wasmtime reports preopens without
 * PATH_FILESTAT_SET_SIZE, yet opens with O_TRUNC there.
 *
 * Current wasmtime (its preview1 on top of WASI 0.2) accepts fd_fdstat_set_rights and ignores
 * it; the wasmtime that honoured rights (wasi-common, and the WASI test suite's
 * fd_fdstat_set_rights, truncation_rights and path_open_read_without_rights tests) fails a
 * dropped right with ENOTCAPABLE, and a read or write without FD_READ/FD_WRITE with EBADF, as
 * does a read of an fd opened write-only. That is what is done here.
 */

function reportedBase(e: FdEntry): number {
  switch (e.kind) {
    case 'stdin': return R.FD_READ;
    case 'stdout':
    case 'stderr': return R.FD_WRITE;
    default: break;
  }
  if (e.preopen !== null) return PREOPEN_RIGHTS_BASE;
  let base = RIGHTS_ALL;
  if (e.kind === 'dir') base &= ~(R.FD_SEEK | R.FD_FILESTAT_SET_SIZE);
  if (!e.readable) base &= ~(R.FD_READ | R.FD_READDIR);
  if (!e.writable) base &= ~R.FD_WRITE;
  return base;
}

function reportedInheriting(e: FdEntry): number {
  return e.preopen !== null ? PREOPEN_RIGHTS_INHERITING : reportedBase(e);
}

/** The base and inheriting rights fd_fdstat_get reports. */
export function heldBase(e: FdEntry): number {
  return reportedBase(e) & ~e.rightsDropped;
}

export function heldInheriting(e: FdEntry): number {
  return reportedInheriting(e) & ~e.inheritingDropped;
}

/** ENOTCAPABLE when the guest dropped `right` on this fd. */
export function needRight(e: FdEntry, right: number): void {
  if ((e.rightsDropped & right) !== 0) throw new Errno(E.NOTCAPABLE);
}

/**
 * fd_fdstat_set_rights: ENOTCAPABLE for a right the fd does not hold (rights are never raised),
 * else the rights not asked for are dropped for good.
 */
export function dropRights(e: FdEntry, base: number, inheriting: number): void {
  const held = heldBase(e);
  const heldInh = heldInheriting(e);
  if ((base & ~held) !== 0 || (inheriting & ~heldInh) !== 0) throw new Errno(E.NOTCAPABLE);
  e.rightsDropped |= held & ~base;
  e.inheritingDropped |= heldInh & ~inheriting;
}
