import { InlineYield } from '../wasi/index.js';
import type { RunWithDeadline } from './deadline.js';
import { JobRunner, type JobRunOutcome } from './job-runner.js';
import type { RunJobRequest } from './thread-protocol.js';

/** How long a linked set that overran its inline budget runs only on guest threads. */
const THREAD_ONLY_MS = 30_000;
const MAX_REMEMBERED = 1024;

export interface InlineRun {
  outcome: JobRunOutcome;
  stdout: Uint8Array[];
  stderr: Uint8Array[];
  /** The deadline that stopped it was the job's own timeout, not the inline budget. */
  timedOut: boolean;
}

/**
 * Jobs run speculatively on the calling (API) thread, within a small time budget. Most jobs are
 * shorter than the round trip to a guest thread: on 2 cores, handing a job to a thread and its
 * reply back costs the API thread more (message, wakeup, being preempted by the woken thread)
 * than a loudify job itself (~7 µs). A job that is still running at the budget is stopped
 * (runWithDeadline), its buffered output dropped, and the caller runs it again from the start on
 * a guest thread, which is safe because a job keeps nothing: no files, output not yet sent,
 * a fresh instance each time. A job that would sleep is given up the same way (InlineYield).
 * Its linked set then goes straight to threads for a while, so a slow component does not pay
 * the budget on every job.
 */
export class InlineJobs {
  private runner = new JobRunner();
  private readonly threadOnlyUntil = new Map<string, number>();
  readonly stats = { ran: 0, overBudget: 0, yielded: 0 };

  constructor(
    private readonly runWithDeadline: RunWithDeadline,
    readonly budgetMs: number,
  ) {}

  /** Runs the job here, or returns null when it has to run on a guest thread. */
  tryRun(request: Omit<RunJobRequest, 'id'>, timeoutMs: number): InlineRun | null {
    const modules = request.modules;
    if (modules === null || request.mounts !== null) return null;
    const until = this.threadOnlyUntil.get(request.modulesKey);
    if (until !== undefined) {
      if (Date.now() < until) return null;
      this.threadOnlyUntil.delete(request.modulesKey);
    }
    const budget = Math.min(this.budgetMs, timeoutMs);
    const stdout: Uint8Array[] = [];
    const stderr: Uint8Array[] = [];
    try {
      const outcome = this.runWithDeadline(
        () => this.runner.run(request, modules, { stdout: (c) => stdout.push(c), stderr: (c) => stderr.push(c), mayBlock: false }),
        budget,
      );
      this.stats.ran++;
      return { outcome, stdout, stderr, timedOut: false };
    } catch (err) {
      const overBudget = (err as { code?: unknown } | null)?.code === 'E_DEADLINE';
      if (!overBudget && !(err instanceof InlineYield)) throw err;
      if (overBudget) {
        this.stats.overBudget++;
        // Stopped anywhere, even inside the host's own code: start the next job from a clean runner.
        this.runner = new JobRunner();
        if (budget >= timeoutMs) return { outcome: { ok: false, error: { code: 'E_TIMEOUT', message: '', details: {} } }, stdout: [], stderr: [], timedOut: true };
      } else {
        this.stats.yielded++;
      }
      this.rememberThreadOnly(request.modulesKey);
      return null;
    }
  }

  private rememberThreadOnly(key: string): void {
    if (this.threadOnlyUntil.size >= MAX_REMEMBERED) this.threadOnlyUntil.clear();
    this.threadOnlyUntil.set(key, Date.now() + THREAD_ONLY_MS);
  }
}
