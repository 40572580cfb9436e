import { WarrenError } from '../../errors.js';
import type { NodeContext } from '../node-context.js';
import { pauseWorker } from './pause-worker.js';

/** Instances waiting for room under the live budgets before starting; past it, E_BUSY. */
export const DEFAULT_MAX_WAITING_STARTS = 256;

/**
 * The node's live budgets (`maxLiveWorkers`, `liveMemoryBudgetBytes`) checked before an instance
 * starts, not after: instances starting now count against the budget with the live ones, and
 * room is made by pausing the least recently used idle instance first. When every live instance
 * is busy, a start waits for one to finish its queued work (at most `maxWaitingStarts` wait; the
 * next is refused with 503 E_BUSY). Memory is known only once an instance has run, so a start
 * counts as none: the memory budget is met before it (the others are brought under the budget)
 * and again after each call by `enforceLiveBudget`.
 */
export class LiveAdmission {
  /** Instances admitted and starting (or restoring), not yet in the live set. */
  starting = 0;
  /** Workers being paused to make room (not picked twice, not counted as live). */
  readonly evicting = new Set<string>();
  /** Starts waiting for a live instance to become idle. */
  waiting = 0;
  maxWaitingStarts = DEFAULT_MAX_WAITING_STARTS;
}

/** What an admitted start gives back: call `release` once the instance is in the live set, or failed to start. */
export interface Admitted {
  release(): void;
}

const NOTHING_TO_RELEASE: Admitted = { release: () => undefined };

/**
 * Waits until the worker's instance fits the live budgets, pausing others to make room; then
 * counts it as starting until `release`. Runs in the worker's queue (so the worker itself is
 * never picked: it is not live).
 */
export async function admitLiveInstance(ctx: NodeContext, workerId: string): Promise<Admitted> {
  const policy = ctx.eviction.policy;
  if (!policy || (policy.maxLiveWorkers === undefined && policy.liveMemoryBudgetBytes === undefined)) return NOTHING_TO_RELEASE;
  const { maxLiveWorkers, liveMemoryBudgetBytes } = policy;
  const admission = ctx.admission;
  const live = ctx.live;
  let released = false;
  const admitted: Admitted = {
    release: () => {
      if (released) return;
      released = true;
      admission.starting--;
    },
  };
  /** Workers whose pause failed in this admission: not tried again by it. */
  const failed = new Set<string>();
  for (;;) {
    // From this check to counting the start, nothing awaits: two starts never take one place.
    // An instance being paused still counts: its place is free once it is gone, not before.
    const running = live.entries();
    const memory = running.reduce((n, [, inst]) => n + inst.memoryBytes, 0);
    const over =
      (maxLiveWorkers !== undefined && running.length + admission.starting + 1 > maxLiveWorkers) ||
      (liveMemoryBudgetBytes !== undefined && running.length > 0 && memory >= liveMemoryBudgetBytes);
    if (!over) {
      admission.starting++;
      return admitted;
    }
    const victim = running
      .filter(([id]) => !live.busy(id) && !admission.evicting.has(id) && !failed.has(id))
      .sort((a, b) => a[1].lastUsed - b[1].lastUsed)[0];
    if (victim) {
      const [id, inst] = victim;
      admission.evicting.add(id);
      try {
        const paused = await pauseWorker(ctx, id, { ifIdleSince: inst.lastUsed });
        if (paused.changed) ctx.logger.info({ worker: id, for: workerId }, 'paused to make room under the live budget');
      } catch (err) {
        failed.add(id);
        ctx.logger.warn({ err, worker: id }, 'pause to make room under the live budget failed');
      } finally {
        admission.evicting.delete(id);
      }
      continue;
    }
    // Nothing idle to pause: wait for a busy instance, a pause or another start to finish.
    const canWait = admission.evicting.size > 0 || admission.starting > 0 || running.some(([id]) => live.busy(id));
    if (!canWait || admission.waiting >= admission.maxWaitingStarts) {
      throw new WarrenError('E_BUSY', `the node holds as many live workers as its budget allows and none is idle; retry later`, {
        worker: workerId,
        live: running.length,
        ...(maxLiveWorkers === undefined ? {} : { maxLiveWorkers }),
        retryAfterSeconds: 1,
      });
    }
    admission.waiting++;
    try {
      await live.nextDrain();
    } finally {
      admission.waiting--;
    }
  }
}
