import { runWithDeadline } from './deadline.js';
import { timeoutError } from './guest-error.js';
import { JobRunner, type JobRunOutcome } from './job-runner.js';
import { OutputBatcher } from './output-batcher.js';
import type { JobBatchRequest, LinkedModules, RunJobRequest, ThreadMessage, ThreadReply } from './thread-protocol.js';

/** A batch's finished jobs are held back at most this long, to go in one message. */
const MAX_HOLD_MS = 1;

type Post = (reply: ThreadMessage, transfer?: ArrayBuffer[]) => void;
type JobFields = Omit<RunJobRequest, 'type' | 'modules' | 'modulesKey'>;

let runner = new JobRunner();
/** Linked sets of single job requests, by modulesKey. */
const linkedSets = new Map<string, LinkedModules>();
/** Linked sets of batches, by the ref the API thread gave them, with their jobs' recent run time (ms). */
const batchSets = new Map<number, { modules: LinkedModules; recycledMemory: RunJobRequest['recycledMemory']; avgMs: number | null }>();
/** [id of the job running or 0, its start in ms since the epoch]: JobLanes' backstop reads it. */
let progress: Float64Array | null = null;

/** Thread side of a single job request (no deadline addon: the API thread's timer ends it). */
export function runJobInThread(req: RunJobRequest, post: Post): void {
  let modules: LinkedModules;
  try {
    modules = modulesFor(req);
  } catch (err) {
    post({ type: 'error', id: req.id, error: { code: 'E_INTERNAL', message: (err as Error).message, details: {} } });
    return;
  }
  runOne(req, modules, post);
}

/**
 * The jobs of a batch, in order. Their final replies go together (one message, one wakeup of
 * the API thread), but none waits more than MAX_HOLD_MS behind a slower job; output chunks of
 * a job streaming a lot go at once as usual.
 */
export function runJobBatchInThread(batch: JobBatchRequest, post: Post): void {
  if (batch.progress) progress = new Float64Array(batch.progress);
  if (batch.resetSets) batchSets.clear();
  for (const set of batch.sets) batchSets.set(set.ref, { modules: set.modules, recycledMemory: set.recycledMemory, avgMs: null });
  const held: ThreadReply[] = [];
  let heldSince = 0;
  const postHeld = () => {
    if (held.length === 1) post(held[0]!);
    else if (held.length > 1) post({ type: 'replies', replies: held.slice() });
    held.length = 0;
  };
  const hold: Post = (reply, transfer) => {
    if (reply.type !== 'done' && reply.type !== 'error') return post(reply, transfer);
    if (held.length === 0) heldSince = performance.now();
    held.push(reply);
  };
  let stdinStart = 0;
  for (const job of batch.jobs) {
    const stdin = batch.stdin.subarray(stdinStart, job.stdinEnd);
    stdinStart = job.stdinEnd;
    const set = batchSets.get(job.ref);
    // Its timeout counts from its arrival on the API thread: what it waited comes off its run.
    const budgetMs = job.deadlineAt === undefined ? job.timeoutMs : Math.min(job.timeoutMs, job.deadlineAt - Date.now());
    if (budgetMs <= 0) {
      hold({ type: 'error', id: job.id, error: timeoutError(job.timeoutMs).toJSON(), runMs: 0 });
    } else if (!set) {
      hold({ type: 'error', id: job.id, error: { code: 'E_INTERNAL', message: `guest thread lost linked set ${job.ref}`, details: {} } });
    } else {
      // Finished jobs do not wait behind one that may be slow (or whose time is not known yet).
      if (held.length > 0 && (set.avgMs === null || set.avgMs > MAX_HOLD_MS)) postHeld();
      const fields: JobFields = { id: job.id, args: job.args, env: job.env, stdin, mounts: job.mounts ?? null, limits: job.limits, recycledMemory: set.recycledMemory, timeoutMs: job.timeoutMs };
      if (progress) {
        progress[1] = Date.now();
        progress[0] = job.id;
      }
      const runMs = runOne(fields, set.modules, hold, budgetMs);
      if (progress) progress[0] = 0;
      set.avgMs = set.avgMs === null ? runMs : set.avgMs + 0.2 * (runMs - set.avgMs);
    }
    if (held.length > 0 && performance.now() - heldSince >= MAX_HOLD_MS) postHeld();
  }
  postHeld();
}

/** One job: output streamed back in chunks; the last chunk rides on the final reply. Returns its run time, ms. */
function runOne(req: JobFields, modules: LinkedModules, post: Post, budgetMs = req.timeoutMs): number {
  const stdout = new OutputBatcher((chunk) => post({ type: 'stdout', id: req.id, chunk }));
  const stderr = new OutputBatcher((chunk) => post({ type: 'stderr', id: req.id, chunk }));
  const io = { stdout: (c: Uint8Array) => stdout.write(c), stderr: (c: Uint8Array) => stderr.write(c) };
  const started = performance.now();
  const outcome = req.timeoutMs !== undefined ? runWithOwnDeadline(req, modules, io, budgetMs ?? req.timeoutMs, req.timeoutMs) : runner.run(req, modules, io);
  const runMs = performance.now() - started;
  if (outcome.ok) {
    // One message per small job, not three.
    post({ type: 'done', id: req.id, result: { ...outcome.result, stdoutTail: stdout.take(), stderrTail: stderr.take() }, runMs });
  } else {
    stdout.flush();
    stderr.flush();
    post({ type: 'error', id: req.id, error: outcome.error, runMs });
  }
  return runMs;
}

/**
 * The job's timeout enforced on this thread (the thread lives on and runs the jobs queued behind
 * it). TerminateExecution stops guest code, host code and a sleep (Atomics.wait) alike.
 */
function runWithOwnDeadline(req: JobFields, modules: LinkedModules, io: Parameters<JobRunner['run']>[2], budgetMs: number, timeoutMs: number): JobRunOutcome {
  if (!runWithDeadline) throw new Error('a job with its own deadline needs the deadline addon');
  try {
    return runWithDeadline(() => runner.run(req, modules, io), budgetMs);
  } catch (err) {
    if ((err as { code?: unknown } | null)?.code !== 'E_DEADLINE') throw err;
    // Stopped anywhere, even inside the host's own code: the next job gets a clean runner, and
    // what the stopped job held open is closed.
    runner.dispose();
    runner = new JobRunner();
    return { ok: false, error: timeoutError(timeoutMs).toJSON() };
  }
}

/** The linked set of a request: sent along the first time, then taken from this thread's cache. */
function modulesFor(req: RunJobRequest): LinkedModules {
  if (req.resetModules) linkedSets.clear();
  if (req.modules) {
    linkedSets.set(req.modulesKey, req.modules);
    return req.modules;
  }
  const known = linkedSets.get(req.modulesKey);
  if (!known) throw new Error(`guest thread lost linked set ${req.modulesKey}`);
  return known;
}
