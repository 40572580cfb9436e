import { readFileSync } from 'node:fs';
import { isMainThread, workerData } from 'node:worker_threads';
import { FD_BUDGET, NO_FD_BUDGET, SharedFdBudget, type FdBudget } from '../wasi/fd-budget.js';

/** What a guest thread gets in its workerData to count its guests' fds in the process's budget. */
export interface ThreadFdBudgetData {
  shared: SharedArrayBuffer;
  held: SharedArrayBuffer;
}

/**
 * The process's budget of host fds for guests, kept on the main thread: every guest thread counts
 * its guests' fds in the same shared counter. Fds are left for the host itself (the store, the
 * registry, sockets, the threads' own loops): without that reserve, guests within their limits
 * would starve the host and a blob read or an accepted connection would fail instead.
 */
export class GuestFdBudget {
  private readonly shared = new Int32Array(new SharedArrayBuffer(FD_BUDGET.SLOTS * 4));

  constructor(limit: number) {
    this.setLimit(limit);
  }

  setLimit(limit: number): void {
    Atomics.store(this.shared, FD_BUDGET.LIMIT, Math.max(0, Math.floor(limit)));
  }

  get limit(): number {
    return Atomics.load(this.shared, FD_BUDGET.LIMIT);
  }

  /** Host fds guests hold now, in every thread. */
  get used(): number {
    return Atomics.load(this.shared, FD_BUDGET.USED);
  }

  /**
   * The workerData of one new guest thread, and `release`, to call once the thread has exited:
   * what it still held is given back (its fds are closed as it ends, even when it was terminated).
   */
  forThread(): { data: ThreadFdBudgetData; release: () => void } {
    const held = new SharedArrayBuffer(4);
    const data = { shared: this.shared.buffer as SharedArrayBuffer, held };
    let released = false;
    return {
      data,
      release: () => {
        if (released) return;
        released = true;
        Atomics.sub(this.shared, FD_BUDGET.USED, Atomics.exchange(new Int32Array(held), 0, 0));
      },
    };
  }
}

/**
 * The default budget: the process's soft RLIMIT_NOFILE (Node raises it to the hard limit at
 * start) less a reserve for the host of half the limit, at least 64 and at most 4,096 fds.
 */
export function defaultGuestFdLimit(): number {
  const soft = openFileLimit();
  if (soft === null) return 512;
  return Math.max(0, soft - Math.min(4096, Math.max(64, Math.floor(soft / 2))));
}

/** Soft "Max open files" of this process (Linux /proc); null where it cannot be read. */
function openFileLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (!m) return null;
    return m[1] === 'unlimited' ? 2 ** 30 : Number(m[1]);
  } catch {
    return null;
  }
}

let processBudget: GuestFdBudget | null = null;

/** The budget of this process, made on first use (main thread only). */
export function processFdBudget(): GuestFdBudget {
  processBudget ??= new GuestFdBudget(defaultGuestFdLimit());
  return processBudget;
}

let threadBudget: FdBudget | null = null;

/** In a guest thread, its view of the process's budget; elsewhere no budget (per-instance limits only). */
export function threadFdBudget(): FdBudget {
  if (threadBudget) return threadBudget;
  const data = (isMainThread ? null : (workerData as { fdBudget?: ThreadFdBudgetData } | null)?.fdBudget) ?? null;
  threadBudget = data ? new SharedFdBudget(new Int32Array(data.shared), new Int32Array(data.held)) : NO_FD_BUDGET;
  return threadBudget;
}
