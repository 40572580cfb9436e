import { E, Errno } from './abi.js';
import { NO_FD_BUDGET, type FdBudget } from './fd-budget.js';
import { closeFd } from './open-at.js';

export type FdKind = 'stdin' | 'stdout' | 'stderr' | 'dir' | 'file';

/** One cached directory listing, so reading a big directory in many fd_readdir calls stays O(n). */
export interface DirListing {
  names: string[];
  types: Uint8Array;
  inos: Float64Array;
  /** Overlay mounts: names from this index on are the lower layer's (names.length on plain mounts). */
  lowerFrom: number;
}

/** An open guest fd. Everything but hostFd and listing is plain data that goes into WasiState. */
export interface FdEntry {
  kind: FdKind;
  /** preview1 filetype, as reported by fd_fdstat_get. */
  filetype: number;
  /** Host fd; -1 for stdio. */
  hostFd: number;
  /** Index into the mount table; -1 for stdio. */
  mount: number;
  /** Canonical path relative to the mount root ('' = the mount root). */
  mountRel: string;
  guestPath: string;
  hostPath: string;
  offset: number;
  fdflags: number;
  readable: boolean;
  writable: boolean;
  /** In a ro mount or a read-only file: writes give EROFS instead of EBADF. */
  readOnly: boolean;
  /**
   * Overlay mounts: hostFd is in the lower layer (a lower file, which is also readOnly, or a
   * directory that had no upper part when opened). Restore re-resolves by path whatever it says.
   */
  lower: boolean;
  /** Rights the guest dropped with fd_fdstat_set_rights or inherited as dropped (see rights.ts). */
  rightsDropped: number;
  inheritingDropped: number;
  /** The preopen name for preopened directories, else null. */
  preopen: string | null;
  dev: number;
  ino: number;
  listing: DirListing | null;
}

/**
 * Guest fd numbers to entries; lowest free number first, as POSIX does. Past `maxOpen` entries,
 * or when the node-wide `budget` of host fds is spent, opening more is EMFILE; every host fd in
 * the table is counted in the budget until it leaves the table.
 */
export class FdTable {
  readonly entries: (FdEntry | undefined)[] = [];
  private open = 0;

  constructor(
    readonly maxOpen: number,
    readonly budget: FdBudget = NO_FD_BUDGET,
  ) {}

  get size(): number {
    return this.open;
  }

  get full(): boolean {
    return this.open >= this.maxOpen || this.budget.spent;
  }

  get(fd: number): FdEntry {
    const e = this.entries[fd];
    if (e === undefined) throw new Errno(E.BADF);
    return e;
  }

  /** A guest's open: EMFILE at the instance's limit or when the node's budget is spent. */
  add(entry: FdEntry): number {
    if (this.open >= this.maxOpen) throw new Errno(E.MFILE);
    if (entry.hostFd >= 0 && !this.budget.take()) throw new Errno(E.MFILE);
    let fd = 0;
    while (this.entries[fd] !== undefined) fd++;
    this.place(fd, entry);
    return fd;
  }

  /** Puts an entry the host opened (preopens, restored fds, renumbering) at `fd`: never refused. */
  set(fd: number, entry: FdEntry): void {
    if (entry.hostFd >= 0) this.budget.force();
    this.place(fd, entry);
  }

  private place(fd: number, entry: FdEntry): void {
    const old = this.entries[fd];
    if (old === undefined) this.open++;
    else if (old.hostFd >= 0) this.budget.give(1);
    this.entries[fd] = entry;
  }

  /** Takes an entry out; the caller closes its host fd (it no longer counts in the budget). */
  remove(fd: number): FdEntry {
    const e = this.get(fd);
    this.entries[fd] = undefined;
    this.open--;
    if (e.hostFd >= 0) this.budget.give(1);
    while (this.entries.length > 0 && this.entries[this.entries.length - 1] === undefined) this.entries.pop();
    return e;
  }

  closeAll(): void {
    let held = 0;
    for (let fd = 0; fd < this.entries.length; fd++) {
      const e = this.entries[fd];
      if (e && e.hostFd >= 0) {
        closeQuietly(e.hostFd);
        held++;
      }
    }
    this.entries.length = 0;
    this.open = 0;
    this.budget.give(held);
  }
}

/** Closes a host fd (with whatever opened it, see closeFd), ignoring errors. */
export function closeQuietly(hostFd: number): void {
  try {
    closeFd(hostFd);
  } catch {
    // already closed: nothing to release
  }
}
