import { isWarrenError, WarrenError } from '../errors.js';
import { timeoutError } from './guest-error.js';
import { GuestThread } from './guest-thread.js';
import type { BatchedJob, JobBatchRequest, RunJobRequest, ThreadReply } from './thread-protocol.js';

/** Linked sets a thread holds at most; past that the next batch has it forget them all. */
const MAX_SETS_PER_THREAD = 64;
/** Jobs queued on one thread at most; past that they wait on the API thread for the shortest lane. */
const MAX_DEPTH = 64;
/** Jobs waiting on the API thread at most (every lane full); past that a job is refused with E_BUSY. */
export const DEFAULT_MAX_WAITING_JOBS = 4096;
/**
 * Jobs pile onto the first lane whose queue should drain within this (by its recent job times),
 * so fast jobs travel in large batches to few threads; slower work spreads over the lanes.
 */
const PACK_MS = 2;
/** A lane whose running job started longer ago than this is busy with a slow job: new jobs go elsewhere. */
const STALL_MS = 20;
/** Weight of the newest job time in a lane's average. */
const EWMA = 0.2;
/** How late past its own deadline a job may be before its thread is presumed stuck and replaced. */
/** Default grace past a job's deadline before the backstop terminates its thread (GuestPool's backstopGraceMs). */
export const BACKSTOP_GRACE_MS = 1000;
const BACKSTOP_CHECK_MS = 250;

export interface LaneJob {
  /** Its call id on the thread it was posted to (0 before). */
  id: number;
  /** Output of it has been passed on: it can no longer be run again elsewhere. */
  streamed: boolean;
  /** The request as the caller gave it: kept whole so the job can go to another lane. */
  request: Omit<RunJobRequest, 'id'>;
  timeoutMs: number;
  /** When it arrived (ms since the epoch): its timeout counts from here, waiting included. */
  arrivedAt: number;
  /** Output chunks streamed before the final reply. */
  onReply: (r: ThreadReply) => void;
  resolve: (r: ThreadReply) => void;
  reject: (e: Error) => void;
}

interface Lane {
  thread: GuestThread;
  /** In the order the thread runs them: the first is running (or its reply is on the way). */
  jobs: LaneJob[];
  /** [id of the job the thread is running or 0, its start in ms since the epoch], written by the thread. */
  progress: Float64Array;
  /** Whether the thread has been given `progress` (with its first batch). */
  progressSent: boolean;
  /** Set when the backstop stopped the thread for the head job. */
  stoppedFor: LaneJob | null;
  /** Recent run time of its jobs, ms (moving average, reported by the thread). */
  avgMs: number;
  /** Linked sets this thread holds, by modulesKey: the number batches name them by. */
  setRefs: Map<string, number>;
  /** Jobs dispatched but not yet posted: they go in one message at the end of this loop turn. */
  outbox: LaneJob[];
  /** Once the thread died: the job it was running (undefined while alive, null if none). */
  diedRunning?: LaneJob | null;
}

/**
 * Job threads that each take a queue of jobs, instead of one job at a time. With the deadline
 * addon a thread enforces each job's timeout itself (run-job-in-thread.ts) and lives on, so
 * jobs can be queued behind each other: a busy thread goes from one job to the next without
 * sleeping, and its replies reach the API thread many per wakeup. Handing over one job at a
 * time, each job paid for a sleeping thread's wakeup and for the API thread's, which on a
 * small machine cost more than the job.
 *
 * A job goes to the first lane expected to drain within PACK_MS (queue length times its recent
 * job time) and not busy with a job running longer than STALL_MS, else to the lane expected to
 * drain first: fast jobs pile onto one warm thread in large batches, slow ones spread out, and
 * new jobs go around a slow one. Each thread shows in shared memory which job it runs since
 * when; one that misses that job's deadline by the backstop grace (the addon should never let
 * that happen) is terminated: the job fails with E_TIMEOUT and the others it held go to other
 * lanes.
 */
export class JobLanes {
  private readonly lanes: Lane[] = [];
  private readonly waiting: LaneJob[] = [];
  private readonly backstop: NodeJS.Timeout;
  private closed = false;
  /** Messages posted and the jobs they carried (jobs / batches = the mean batch). */
  readonly stats = { batches: 0, jobs: 0 };

  constructor(
    count: number,
    private readonly spawn: () => GuestThread,
    private readonly onTimeout: () => void,
    private readonly backstopGraceMs = BACKSTOP_GRACE_MS,
    /** Read against the job start times threads write (Date.now() there). */
    private readonly now: () => number = Date.now,
    private readonly maxWaiting = DEFAULT_MAX_WAITING_JOBS,
  ) {
    for (let i = 0; i < count; i++) this.lanes.push(this.newLane());
    this.backstop = setInterval(() => this.checkDeadlines(), BACKSTOP_CHECK_MS);
    this.backstop.unref();
  }

  run(request: Omit<RunJobRequest, 'id'>, timeoutMs: number, onReply: (r: ThreadReply) => void): Promise<ThreadReply> {
    if (this.closed) return Promise.reject(new WarrenError('E_UNAVAILABLE', 'the guest pool is closed'));
    return new Promise((resolve, reject) => {
      const job: LaneJob = { id: 0, streamed: false, request, timeoutMs, arrivedAt: Date.now(), onReply, resolve, reject };
      const lane = this.shortestLane();
      if (lane) this.dispatch(lane, job);
      else if (this.waiting.length < this.maxWaiting) this.waiting.push(job);
      else reject(new WarrenError('E_BUSY', `${this.waiting.length} jobs are waiting for a thread already; retry later`, { waiting: this.waiting.length, retryAfterSeconds: 1 }));
    });
  }

  async close(reason: Error): Promise<void> {
    this.closed = true;
    clearInterval(this.backstop);
    for (const job of this.waiting.splice(0)) job.reject(reason);
    await Promise.all(this.lanes.map((lane) => lane.thread.terminate(reason)));
  }

  private newLane(): Lane {
    const progress = new Float64Array(new SharedArrayBuffer(2 * Float64Array.BYTES_PER_ELEMENT));
    return { thread: this.spawn(), jobs: [], progress, progressSent: false, stoppedFor: null, outbox: [], avgMs: 0, setRefs: new Map() };
  }

  /** Jobs in flight on the lanes (queued on the API thread not counted). */
  get outstanding(): number {
    let n = 0;
    for (const lane of this.lanes) n += lane.jobs.length;
    return n;
  }

  /**
   * The first lane expected to drain within PACK_MS and not stuck on a slow job; else the lane
   * expected to drain first.
   */
  private shortestLane(): Lane | null {
    const now = this.now();
    let best: Lane | null = null;
    let bestWait = Infinity;
    for (const lane of this.lanes) {
      if (lane.jobs.length >= MAX_DEPTH) continue;
      if (lane.jobs.length === 0) return lane;
      const stalled = lane.progress[0] !== 0 ? now - lane.progress[1]! : 0;
      const wait = lane.jobs.length * lane.avgMs + (stalled > STALL_MS ? stalled : 0);
      if (wait < PACK_MS) return lane;
      if (wait < bestWait) {
        best = lane;
        bestWait = wait;
      }
    }
    return best;
  }

  private dispatch(lane: Lane, job: LaneJob): void {
    lane.jobs.push(job);
    lane.outbox.push(job);
    // Requests read in the same poll phase (many sockets at once under load) share one message.
    if (lane.outbox.length === 1) setImmediate(() => this.post(lane));
  }

  private post(lane: Lane): void {
    if (lane.outbox.length === 0) return;
    const jobs = lane.outbox.splice(0);
    this.stats.batches++;
    this.stats.jobs += jobs.length;
    const thread = lane.thread;
    const batch: JobBatchRequest = { type: 'job-batch', resetSets: false, sets: [], stdin: new Uint8Array(0), jobs: [] };
    if (!lane.progressSent) {
      batch.progress = lane.progress.buffer as SharedArrayBuffer;
      lane.progressSent = true;
    }
    const newSets = new Set<string>();
    for (const job of jobs) if (!lane.setRefs.has(job.request.modulesKey)) newSets.add(job.request.modulesKey);
    if (lane.setRefs.size + newSets.size > MAX_SETS_PER_THREAD) {
      lane.setRefs.clear();
      batch.resetSets = true;
    }
    let stdinBytes = 0;
    for (const job of jobs) stdinBytes += job.request.stdin.byteLength;
    // One copy of every stdin into one buffer that is moved, not one clone or transfer per job.
    const stdin = new Uint8Array(stdinBytes);
    let end = 0;
    for (const job of jobs) {
      const r = job.request;
      let ref = lane.setRefs.get(r.modulesKey);
      if (ref === undefined) {
        if (!r.modules) {
          this.finished(lane, job);
          job.reject(new WarrenError('E_INTERNAL', `job of ${r.modulesKey} came without its modules`));
          continue;
        }
        ref = lane.setRefs.size + 1;
        lane.setRefs.set(r.modulesKey, ref);
        batch.sets.push({ ref, modules: r.modules, recycledMemory: r.recycledMemory });
      }
      stdin.set(r.stdin, end);
      end += r.stdin.byteLength;
      const id = thread.nextCallId();
      job.id = id;
      const wire: BatchedJob = { id, ref, stdinEnd: end, args: r.args, env: r.env, limits: r.limits, timeoutMs: job.timeoutMs, deadlineAt: job.arrivedAt + job.timeoutMs };
      if (r.mounts) wire.mounts = r.mounts;
      batch.jobs.push(wire);
      thread.expect(
        id,
        (reply) => {
          if (reply.type === 'done' || reply.type === 'error') {
            lane.avgMs += EWMA * ((reply.runMs ?? 0) - lane.avgMs);
            this.finished(lane, job);
            job.resolve(reply);
          } else {
            job.streamed = true;
            job.onReply(reply);
          }
        },
        (err) => this.laneFailed(lane, job, err),
      );
    }
    batch.stdin = stdin;
    thread.post(batch, [stdin.buffer]);
  }

  private finished(lane: Lane, job: LaneJob): void {
    const i = lane.jobs.indexOf(job);
    if (i >= 0) lane.jobs.splice(i, 1);
    const next = this.waiting.shift();
    if (next) this.dispatch(this.shortestLane() ?? lane, next);
  }

  /**
   * The thread died (stopped by the backstop, crashed): each of its jobs comes through here. The
   * one it was running fails; the others run again elsewhere (a job keeps nothing, and those
   * before it had only their replies held back), unless some of their output went out already.
   */
  private laneFailed(lane: Lane, job: LaneJob, err: Error): void {
    if (lane.diedRunning === undefined) {
      const running = lane.progress[0];
      lane.diedRunning = lane.stoppedFor ?? lane.jobs.find((j) => j.id === running) ?? null;
    }
    const i = lane.jobs.indexOf(job);
    if (i >= 0) lane.jobs.splice(i, 1);
    this.replaceIfDead(lane);
    // A thread that could not start for want of fds: its jobs fail now rather than chase new threads that cannot start either.
    if (lane.diedRunning === job || this.closed || isWarrenError(err, 'E_TOO_MANY_FILES')) {
      job.reject(lane.stoppedFor === job ? timeoutError(job.timeoutMs) : err);
      return;
    }
    if (job.streamed) {
      job.reject(new WarrenError('E_INTERNAL', `the job's thread was lost after its output began: ${err.message}`));
      return;
    }
    job.id = 0;
    const target = this.shortestLane();
    if (target) this.dispatch(target, job);
    else this.waiting.unshift(job);
  }

  private replaceIfDead(dead: Lane): void {
    const index = this.lanes.indexOf(dead);
    if (index < 0 || dead.thread.alive || this.closed) return;
    this.lanes[index] = this.newLane();
  }

  private checkDeadlines(): void {
    const now = this.now();
    for (const lane of this.lanes) {
      const running = lane.progress[0];
      if (running === 0 || lane.stoppedFor !== null) continue;
      const job = lane.jobs.find((j) => j.id === running);
      if (job && now - lane.progress[1]! > job.timeoutMs + this.backstopGraceMs) {
        lane.stoppedFor = job;
        this.onTimeout();
        void lane.thread.terminate(timeoutError(job.timeoutMs));
      }
    }
  }
}
