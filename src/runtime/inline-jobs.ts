import { InlineYield } from '../wasi/index.js';
import type { RunWithDeadline } from './deadline.js';
import { JobRunner, type JobRunOutcome } from './job-runner.js';
import type { RunJobRequest } from './thread-protocol.js';

/** How long a linked set that keeps overrunning its inline budget runs only on guest threads. */
const THREAD_ONLY_MS = 30_000;
/**
 * Overruns before that happens. One is not enough: on a busy machine a job of microseconds can
 * take milliseconds of wall time (the process was descheduled, a GC ran). Each inline success
 * takes back 1/20 of a strike.
 */
const STRIKES = 3;
const STRIKE_DECAY = 0.05;
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
 * than a small job itself (docs/decisions.md). A job that is still running at the budget is stopped
 * (runWithDeadline), its buffered output dropped, and the caller runs it again from the start on
 * a guest thread, which is safe because a job keeps nothing: no files, output not yet sent,
 * a fresh instance each time. A job that would sleep is given up the same way (InlineYield).
 * Its linked set then goes straight to threads for a while, so a slow component does not pay
 * the budget on every job.
 */
export class InlineJobs {
  private runner = new JobRunner();
  private readonly threadOnlyUntil = new Map<string, number>();
  private readonly strikes = new Map<string, number>();
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
      const strikes = this.strikes.get(request.modulesKey);
      if (strikes !== undefined) {
        if (strikes <= STRIKE_DECAY) this.strikes.delete(request.modulesKey);
        else this.strikes.set(request.modulesKey, strikes - STRIKE_DECAY);
      }
      return { outcome, stdout, stderr, timedOut: false };
    } catch (err) {
      const overBudget = (err as { code?: unknown } | null)?.code === 'E_DEADLINE';
      if (!overBudget && !(err instanceof InlineYield)) throw err;
      if (overBudget) {
        this.stats.overBudget++;
        // Stopped anywhere, even inside the host's own code: start the next job from a clean runner.
        this.runner = new JobRunner();
        if (budget >= timeoutMs) return { outcome: { ok: false, error: { code: 'E_TIMEOUT', message: '', details: {} } }, stdout: [], stderr: [], timedOut: true };
        this.strike(request.modulesKey, 1);
      } else {
        // A guest that sleeps once will sleep again.
        this.stats.yielded++;
        this.strike(request.modulesKey, STRIKES);
      }
      return null;
    }
  }

  private strike(key: string, n: number): void {
    const strikes = (this.strikes.get(key) ?? 0) + n;
    if (strikes < STRIKES) {
      if (this.strikes.size >= MAX_REMEMBERED) this.strikes.clear();
      this.strikes.set(key, strikes);
      return;
    }
    this.strikes.delete(key);
    if (this.threadOnlyUntil.size >= MAX_REMEMBERED) this.threadOnlyUntil.clear();
    this.threadOnlyUntil.set(key, Date.now() + THREAD_ONLY_MS);
  }
}
