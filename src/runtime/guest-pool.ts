import { availableParallelism } from 'node:os';
import { WarrenError } from '../errors.js';
import { runWithDeadline } from './deadline.js';
import { timeoutError } from './guest-error.js';
import { processFdBudget } from './guest-fd-budget.js';
import { GuestThread } from './guest-thread.js';
import { InlineJobs } from './inline-jobs.js';
import { InstanceThreads } from './instance-threads.js';
import { OwnThreadSlot, type InstanceSlot } from './instance-slot.js';
import { BACKSTOP_GRACE_MS, DEFAULT_MAX_WAITING_JOBS, JobLanes } from './job-lanes.js';
import type { RunJobRequest, ThreadReply } from './thread-protocol.js';

const MAX_LINKED_SETS_PER_THREAD = 64;

export interface PoolOptions {
  /**
   * Threads kept for jobs; default: twice the cores (at most 16). A job thread waits on the
   * API thread between jobs (message round trips), so one per core leaves cores idle.
   */
  jobThreads?: number;
  /**
   * Threads that host every live worker instance, many instances each (with the deadline addon;
   * see InstanceThreads); default: twice the cores (at most 16).
   */
  guestThreads?: number;
  /** Without the deadline addon, each live worker has a thread of its own: warm spares kept ready (spawning one costs tens of ms). */
  spareThreads?: number;
  /**
   * Jobs first run inline on the API thread for at most this long (see InlineJobs), while no
   * job is queued on the threads. Default 0 = off: with job lanes, threads serve more jobs/s
   * (docs/decisions.md). Without the native deadline addon, jobs always run on threads.
   */
  inlineBudgetMs?: number;
  /** Host fds all guests of the process may hold together; default: from RLIMIT_NOFILE (see GuestFdBudget). */
  guestFds?: number;
  /**
   * How long past a deadline a job or instance thread may stay stuck (in a syscall the deadline addon
   * cannot interrupt) before it is terminated; default 1 s. Tests that are not about the
   * backstop set it long, so a machine that stalls does not replace a thread.
   */
  backstopGraceMs?: number;
  /** Wall-clock ms as job lanes read it against the start times their threads write (tests move it on). */
  now?: () => number;
  /** Jobs that may wait for a thread (every lane full) before the next is refused with E_BUSY; default JobLanes' DEFAULT_MAX_WAITING_JOBS. */
  maxWaitingJobs?: number;
}

export const DEFAULT_INLINE_BUDGET_MS = 0;

export interface RunOptions {
  timeoutMs: number;
  /** Buffers moved (not copied) to the thread with the request; the caller must not use them after. */
  transfer?: ArrayBuffer[];
  onStdout?: (chunk: Uint8Array) => void;
  onStderr?: (chunk: Uint8Array) => void;
}

/**
 * The threads that run guest code. Jobs share `jobThreads` warm threads: with the deadline addon
 * as lanes that each take a queue of jobs and stop a job at its timeout themselves (JobLanes);
 * without it one job per thread, in a FIFO when all are busy, and a job past its timeout
 * terminates its thread, which is replaced. Live worker instances share `guestThreads` threads
 * that stop an op at its timeout themselves (InstanceThreads); without the addon each live worker
 * has a thread of its own, from warm spares. The API thread never blocks.
 */
export class GuestPool {
  private readonly idle: GuestThread[] = [];
  private readonly waiting: { resolve: (t: GuestThread) => void; reject: (err: unknown) => void }[] = [];
  private readonly spares: GuestThread[] = [];
  private jobThreadCount = 0;
  private readonly sentModules = new WeakMap<GuestThread, Set<string>>();
  private closed = false;
  readonly jobThreads: number;
  readonly spareThreads: number;
  private readonly maxWaitingJobs: number;
  /** The threads hosting live worker instances; null without the deadline addon (a thread per worker then). */
  readonly instances: InstanceThreads | null;
  readonly stats = { jobsRun: 0, timeouts: 0, threadsSpawned: 0 };
  /** Null when jobs run only on threads. */
  readonly inline: InlineJobs | null;
  /** Job threads that queue jobs and time them out themselves; null without the deadline addon (one job per thread then). */
  readonly lanes: JobLanes | null;

  constructor(opts: PoolOptions = {}) {
    if (opts.guestFds !== undefined) processFdBudget().setLimit(opts.guestFds);
    this.jobThreads = Math.max(1, opts.jobThreads ?? Math.min(16, 2 * availableParallelism()));
    this.instances = runWithDeadline
      ? new InstanceThreads(Math.max(1, opts.guestThreads ?? Math.min(16, 2 * availableParallelism())), opts.backstopGraceMs ?? BACKSTOP_GRACE_MS, () => this.stats.threadsSpawned++)
      : null;
    this.spareThreads = this.instances ? 0 : Math.max(0, opts.spareThreads ?? 2);
    this.maxWaitingJobs = opts.maxWaitingJobs ?? DEFAULT_MAX_WAITING_JOBS;
    const budget = opts.inlineBudgetMs ?? DEFAULT_INLINE_BUDGET_MS;
    this.inline = runWithDeadline && budget > 0 ? new InlineJobs(runWithDeadline, budget) : null;
    this.lanes = runWithDeadline
      ? new JobLanes(this.jobThreads, () => this.spawn(), () => this.stats.timeouts++, opts.backstopGraceMs, opts.now, opts.maxWaitingJobs)
      : null;
    if (!this.lanes) for (let i = 0; i < this.jobThreads; i++) this.addJobThread();
    for (let i = 0; i < this.spareThreads; i++) this.spares.push(this.spawn());
  }

  async runJob(request: Omit<RunJobRequest, 'id'>, opts: RunOptions): Promise<Record<string, unknown>> {
    if (this.closed) throw new WarrenError('E_UNAVAILABLE', 'the guest pool is closed');
    // Inline only while the job threads are idle: under load, queued lanes cost the API thread less.
    const here = this.inline && (this.lanes === null || this.lanes.outstanding === 0) ? this.inline.tryRun(request, opts.timeoutMs) : null;
    if (here) {
      this.stats.jobsRun++;
      if (here.timedOut) {
        this.stats.timeouts++;
        throw timeoutError(opts.timeoutMs);
      }
      for (const c of here.stdout) opts.onStdout?.(c);
      for (const c of here.stderr) opts.onStderr?.(c);
      if (here.outcome.ok) return here.outcome.result;
      const e = here.outcome.error;
      throw new WarrenError(e.code as ConstructorParameters<typeof WarrenError>[0], e.message, e.details);
    }
    if (this.lanes) {
      this.stats.jobsRun++;
      const reply = await this.lanes.run(request, opts.timeoutMs, (r) => {
        if (r.type === 'stdout') opts.onStdout?.(r.chunk);
        else if (r.type === 'stderr') opts.onStderr?.(r.chunk);
      });
      if (reply.type === 'error' && reply.error.code === 'E_TIMEOUT') this.stats.timeouts++;
      return this.withTails(unwrapReply(reply), opts);
    }
    // The timeout counts from the job's arrival, as in a lane: the wait for a thread is part of it.
    const arrivedAt = performance.now();
    const thread = await this.acquire();
    this.stats.jobsRun++;
    try {
      const leftMs = opts.timeoutMs - (performance.now() - arrivedAt);
      if (leftMs <= 0) {
        this.stats.timeouts++;
        throw timeoutError(opts.timeoutMs);
      }
      const body = this.withoutKnownModules(thread, request);
      const reply = await callWithTimeout(thread, body, { ...opts, transfer: [body.stdin.buffer as ArrayBuffer] }, () => {
        this.stats.timeouts++;
      }, leftMs);
      return this.withTails(unwrapReply(reply), opts);
    } finally {
      this.release(thread);
    }
  }

  /** A job's last output rides on its reply: delivered here, after the chunks streamed before it. */
  private withTails(result: Record<string, unknown>, opts: RunOptions): Record<string, unknown> {
    const { stdoutTail, stderrTail, ...rest } = result;
    if (stdoutTail instanceof Uint8Array) opts.onStdout?.(stdoutTail);
    if (stderrTail instanceof Uint8Array) opts.onStderr?.(stderrTail);
    return rest;
  }

  /**
   * Posting a WebAssembly.Module to a thread costs more than running a small job, so each job
   * thread keeps the linked sets it was sent; later jobs send only the key. The pool mirrors what
   * each thread holds and, past a bound, has the thread empty its cache with the next request.
   */
  private withoutKnownModules(thread: GuestThread, request: Omit<RunJobRequest, 'id'>): Omit<RunJobRequest, 'id'> {
    let known = this.sentModules.get(thread);
    if (!known) this.sentModules.set(thread, (known = new Set()));
    if (known.has(request.modulesKey)) return { ...request, modules: null, stdin: exactCopy(request.stdin) };
    let resetModules = false;
    if (known.size >= MAX_LINKED_SETS_PER_THREAD) {
      known.clear();
      resetModules = true;
    }
    known.add(request.modulesKey);
    return { ...request, resetModules, stdin: exactCopy(request.stdin) };
  }

  /**
   * A place for one new live worker instance: on a shared instance thread, or (no deadline
   * addon) a thread of its own. The caller runs `start`/`restore` on it and `release`s it.
   */
  async placeInstance(): Promise<InstanceSlot> {
    if (this.closed) throw new WarrenError('E_UNAVAILABLE', 'the guest pool is closed');
    if (this.instances) return this.instances.place();
    // A spare that could not start (the node was out of fds then) is dropped, not handed out.
    while (this.spares.length > 0 && !this.spares[0]!.alive) this.spares.shift();
    const thread = this.spares.shift() ?? this.spawn();
    if (!this.closed) this.spares.push(this.spawn());
    await thread.ready;
    return new OwnThreadSlot(thread);
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.idle, ...this.spares];
    this.idle.length = 0;
    this.spares.length = 0;
    const reason = new WarrenError('E_UNAVAILABLE', 'the node is shutting down');
    await Promise.all([...all.map((t) => t.terminate(reason)), this.lanes?.close(reason), this.instances?.close(reason)]);
  }

  private spawn(): GuestThread {
    this.stats.threadsSpawned++;
    return new GuestThread();
  }

  private addJobThread(): void {
    this.jobThreadCount++;
    this.idle.push(this.spawn());
  }

  private acquire(): Promise<GuestThread> {
    if (this.closed) return Promise.reject(new WarrenError('E_UNAVAILABLE', 'the guest pool is closed'));
    const t = this.idle.pop();
    // A thread that could not start fails this job only; a new one takes its place in the pool.
    if (t) return t.ready.then(() => t, (err: unknown) => {
      this.release(t);
      throw err;
    });
    if (this.waiting.length >= this.maxWaitingJobs) {
      return Promise.reject(new WarrenError('E_BUSY', `${this.waiting.length} jobs are waiting for a thread already; retry later`, { waiting: this.waiting.length, retryAfterSeconds: 1 }));
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(thread: GuestThread): void {
    let next = thread;
    if (!thread.alive) {
      if (this.closed) return;
      next = this.spawn();
    }
    if (this.closed) {
      void next.terminate();
      return;
    }
    const waiter = this.waiting.shift();
    if (waiter) {
      next.ready.then(() => waiter.resolve(next), (err: unknown) => {
        waiter.reject(err);
        this.release(next);
      });
    } else this.idle.push(next);
  }
}

/**
 * Runs one call on a thread; past `runForMs` (what is left of `timeoutMs`, by default all of it)
 * the thread is terminated and E_TIMEOUT thrown.
 */
export async function callWithTimeout(
  thread: GuestThread,
  request: Parameters<GuestThread['call']>[0],
  opts: RunOptions,
  onTimeout: () => void = () => undefined,
  runForMs = opts.timeoutMs,
): Promise<ThreadReply> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      const err = timeoutError(opts.timeoutMs);
      void thread.terminate(err);
      reject(err);
    }, runForMs);
  });
  try {
    return await Promise.race([
      thread.call(
        request,
        (r) => {
          if (r.type === 'stdout') opts.onStdout?.(r.chunk);
          else if (r.type === 'stderr') opts.onStderr?.(r.chunk);
        },
        opts.transfer,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Structured clone copies a view's whole backing ArrayBuffer: a request body is often a slice
 * of a much larger pooled buffer. An exact copy holds only the bytes, and is transferred (moved)
 * to the thread; the caller's buffer is never detached.
 */
function exactCopy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

export function unwrapReply(reply: ThreadReply): Record<string, unknown> {
  if (reply.type === 'done') return reply.result;
  if (reply.type === 'error') {
    throw new WarrenError(reply.error.code as ConstructorParameters<typeof WarrenError>[0], reply.error.message, reply.error.details);
  }
  throw new WarrenError('E_INTERNAL', `unexpected reply ${reply.type}`);
}
