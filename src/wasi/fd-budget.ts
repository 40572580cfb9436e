/**
 * Host fds that guests may hold, shared by every guest of the process. Every guest fd is a real
 * fd of the server process: without a shared bound, guests within their own per-instance limit
 * can together take all the process's fds, and the host then fails wherever it opens a file.
 * A spent budget gives the guest EMFILE, as its own limit does.
 */
export interface FdBudget {
  /** Takes one fd; false (nothing taken) when the budget is spent. */
  take(): boolean;
  /** Takes one even past the limit: fds the host opens for a guest (its preopens), never the guest's own opens. */
  force(): void;
  give(n: number): void;
  readonly spent: boolean;
}

/** No node-wide bound (the API thread, `warren exec`): only the per-instance limit applies. */
export const NO_FD_BUDGET: FdBudget = {
  take: () => true,
  force: () => undefined,
  give: () => undefined,
  spent: false,
};

/** Slots of the shared counter. */
export const FD_BUDGET = { LIMIT: 0, USED: 1, SLOTS: 2 } as const;

/**
 * One thread's view of the process-wide budget: `shared` ([limit, used], over a
 * SharedArrayBuffer every guest thread gets) and `held`, what this thread holds, which the
 * thread's owner gives back to `shared` once the thread is gone (a thread stopped at a timeout
 * never closes its fds itself: its fds are closed as it ends, and its count is returned then).
 */
export class SharedFdBudget implements FdBudget {
  constructor(
    private readonly shared: Int32Array,
    private readonly held: Int32Array,
  ) {}

  take(): boolean {
    const before = Atomics.add(this.shared, FD_BUDGET.USED, 1);
    if (before >= Atomics.load(this.shared, FD_BUDGET.LIMIT)) {
      Atomics.sub(this.shared, FD_BUDGET.USED, 1);
      return false;
    }
    Atomics.add(this.held, 0, 1);
    return true;
  }

  force(): void {
    Atomics.add(this.shared, FD_BUDGET.USED, 1);
    Atomics.add(this.held, 0, 1);
  }

  give(n: number): void {
    if (n <= 0) return;
    Atomics.sub(this.shared, FD_BUDGET.USED, n);
    Atomics.sub(this.held, 0, n);
  }

  get spent(): boolean {
    return Atomics.load(this.shared, FD_BUDGET.USED) >= Atomics.load(this.shared, FD_BUDGET.LIMIT);
  }
}
