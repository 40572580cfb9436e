/**
 * Messages between the API thread and guest threads. Modules travel as WebAssembly.Module
 * (structured-cloned between threads of one process without recompiling).
 */
import type { MountTable } from '../wasi/index.js';
import type { WorkerRequest } from './worker-protocol.js';

export type { WorkerRequest } from './worker-protocol.js';

export interface LinkedModules {
  main: WebAssembly.Module;
  /** Extension modules, instantiated first; a main import module named `fq` is wired to them. */
  extensions: { fq: string; module: WebAssembly.Module }[];
  /** Set for a WebAssembly component: what runs instead of `main` (see src/runtime/component-*.ts). */
  component?: ComponentModules;
}

/** A transpiled component: jco's glue and the core modules it instantiates. */
export interface ComponentModules {
  /** Names the glue in each thread's cache of compiled glue (its artifact digest). */
  glueKey: string;
  /** The glue as a function body returning `{ instantiate }` (see glueFunctionBody). */
  glue: string;
  /** Core modules by the name the glue asks for. */
  cores: Record<string, WebAssembly.Module>;
}

export interface GuestLimits {
  /** Cap on stdout+stderr bytes. */
  maxOutputBytes: number;
  /** Cap on bytes of writable files (worker roots); undefined = none. */
  diskQuotaBytes?: number;
  /** The memory maximum written into the module (for reporting E_MEMORY_LIMIT); null = none. */
  memoryMaxBytes: number | null;
}

export interface RunJobRequest {
  type: 'run-job';
  id: number;
  /**
   * The modules, or null when this thread already holds them under `modulesKey` (posting a
   * WebAssembly.Module costs the API thread more than the job itself; see GuestPool).
   */
  modules: LinkedModules | null;
  /** Names the linked set for the thread's cache; `resetModules` first empties that cache. */
  modulesKey: string;
  resetModules?: boolean;
  args: string[];
  env: Record<string, string>;
  stdin: Uint8Array;
  mounts: MountTable | null;
  limits: GuestLimits;
  /** The main module imports its memory (`warren`.`memory`) of these limits: the thread recycles zeroed ones. */
  recycledMemory?: { initial: number; maximum: number | null } | null;
  /**
   * Set when the thread enforces the timeout itself (the deadline addon: see JobLanes): the job
   * may then wait behind others on the thread, and past this it gets E_TIMEOUT without the
   * thread being terminated. Unset: the API thread's timer terminates the thread.
   */
  timeoutMs?: number;
}

/** A job of a batch: what differs from job to job; the rest is its linked set's (`ref`). */
export interface BatchedJob {
  id: number;
  ref: number;
  /** Its stdin is the batch's `stdin` from the previous job's end to this. */
  stdinEnd: number;
  args: string[];
  env: Record<string, string>;
  limits: GuestLimits;
  timeoutMs: number;
  /** Its deadline (ms since the epoch, counted from its arrival): the time it waited comes off its run. */
  deadlineAt?: number;
  /** Absent for jobs (no files); a mount table for other one-shot runs. */
  mounts?: MountTable;
}

/**
 * Jobs queued on a thread together, run in order (see JobLanes): one message instead of one per
 * job, one moved buffer for all their stdin, and linked sets sent once and then named by a
 * number. Each job is stopped at its timeout by the thread itself.
 */
export interface JobBatchRequest {
  type: 'job-batch';
  id?: undefined;
  /** Forget every linked set held before this batch's `sets`. */
  resetSets: boolean;
  /**
   * With a thread's first batch: where it shows the API thread which job it is running and since
   * when (Float64 [job id or 0, start in ms since the epoch]), read without a message.
   */
  progress?: SharedArrayBuffer;
  sets: { ref: number; modules: LinkedModules; recycledMemory: RunJobRequest['recycledMemory'] }[];
  stdin: Uint8Array;
  jobs: BatchedJob[];
}

/** What a guest thread is asked to do: a job, or an op of a live worker instance (worker-protocol.ts). */
export type ThreadRequest = RunJobRequest | WorkerRequest;

/** A request before the thread wrapper gives it an id (Omit distributed over the union). */
export type ThreadRequestBody = ThreadRequest extends infer R ? (R extends ThreadRequest ? Omit<R, 'id'> : never) : never;

export interface GuestErrorInfo {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

export type ThreadReply =
  | { type: 'ready'; id?: undefined }
  | { type: 'stdout' | 'stderr'; id: number; chunk: Uint8Array }
  | { type: 'done'; id: number; result: Record<string, unknown>; runMs?: number }
  | { type: 'error'; id: number; error: GuestErrorInfo; runMs?: number };

/** What a thread posts: a reply, or the last replies of several jobs of a batch together. */
export type ThreadMessage = ThreadReply | { type: 'replies'; id?: undefined; replies: ThreadReply[] };

export interface JobOutcome {
  exitCode: number;
  /** Linear memory size at exit, bytes. */
  memoryBytes: number;
}
