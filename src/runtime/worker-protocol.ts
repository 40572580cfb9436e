/**
 * The ops of live worker instances between the API thread and the guest thread holding the
 * instance: for each op, the payload the API thread sends and the result the thread replies
 * with. Both sides are typed from this one map (`callWorkerOp` and `registerWorkerOp`).
 */
import type { MountTable, WasiState } from '../wasi/index.js';
import type { WasmArg } from './coerce-export-args.js';
import type { ComponentGuestState } from './component-state.js';
import type { PackPlacement, PageScan } from './memory-pages.js';
import type { GuestLimits, LinkedModules } from './thread-protocol.js';

export interface StartWorkerPayload {
  workerId: string;
  /**
   * The modules, or null when the thread already holds them under `modulesKey` (a thread that
   * hosts many instances is sent each linked set once).
   */
  modules: LinkedModules | null;
  /** Names the linked set in the thread's cache; absent = not cached. */
  modulesKey?: string;
  args: string[];
  env: Record<string, string>;
  mounts: MountTable;
  limits: GuestLimits;
}

export interface InvokePayload {
  workerId: string;
  /** An exported function to call with numeric args; absent = the stdin/stdout convention (`_start`). */
  export?: string;
  /** Already checked against the export's signature (coerceExportArgs): BigInt for i64. */
  args?: WasmArg[];
  stdin?: Uint8Array;
  /** A typed call of a component's function: where jco's exports have it, its arguments as jco values. */
  call?: { path: string[]; args: unknown[]; throwsResult: boolean };
}

/**
 * A `full` snapshot's scan of a live instance. The base is the page map of the snapshot the
 * caller last *stored*, passed in by the caller: a snapshot whose blobs never made it to the
 * store must not become the next one's base.
 */
export interface SnapshotPayload {
  workerId: string;
  /** Page digests of the caller's last stored snapshot of this instance; null = send every page. */
  base: Record<string, string> | null;
  /** The tag (snapshot id) the base was scanned under: its shadow, if the thread kept one, spares hashing unchanged pages. */
  baseTag?: string | null;
  /** Keep a shadow of memory tagged so for the next scan (instances snapshotted while they live: commits, `on_call`). */
  shadowTag?: string;
}

export type GlobalValues = Record<string, { type: 'number' | 'bigint'; value: string }>;

/** The scan (see memory-pages' PageScan; the pack's bytes went out as `stdout` chunks), globals and WASI state. */
export interface GuestStateSnapshot extends PageScan {
  globals: GlobalValues;
  wasi: WasiState;
  /** A component worker's: the glue's resource tables and the host objects in them. */
  component?: ComponentGuestState;
}

export interface RestorePayload extends StartWorkerPayload, PackPlacement {
  pages: number;
  globals: GlobalValues;
  /** The exported WASI state, its mount host paths already pointing at this node's dirs. */
  wasi: WasiState;
  /** For a component worker (see GuestStateSnapshot). */
  component?: ComponentGuestState;
}

/**
 * An idle instance taken out of its thread to go on in another (InstanceThreads' moves): all of
 * its memory (transferred, not copied again), its globals and its WASI state.
 */
export interface ExportedInstance {
  memory: ArrayBuffer;
  globals: GlobalValues;
  wasi: WasiState;
  /** A component worker's glue tables and host objects (as in a full snapshot). */
  component?: ComponentGuestState;
}

/** The instance again, in another thread: the fds of `wasi` are reopened there and must be the same files. */
export interface AdoptPayload extends StartWorkerPayload, ExportedInstance {}

export interface StartedInstance {
  reactor: boolean;
  memoryBytes: number;
}

export type InvokeResult =
  /**
   * An export: its return values (i64 and non-finite floats as strings: JSON has neither).
   * `touched`: guest paths of the mounts whose files the guest may have changed since the last
   * call said (WasiHost.takeTouchedMounts; a component's come from the preview1 host under its
   * WASI 0.2 host, through which every file operation goes); absent where the thread cannot tell.
   */
  | { returns: (number | string)[]; memoryBytes: number; touched?: string[] }
  /** `_start`: the exit code, and whether a limit cut the call short. */
  | { exitCode: number; memoryBytes: number; outputLimitExceeded: boolean; diskQuotaExceeded: boolean; touched?: string[] }
  /** A component function: the jco value it returned, or the err payload of its WIT result. */
  | { component: { value: unknown } | { error: unknown }; memoryBytes: number; touched?: string[] };

export interface WorkerOps {
  start: { payload: StartWorkerPayload; result: StartedInstance };
  restore: { payload: RestorePayload; result: StartedInstance };
  invoke: { payload: InvokePayload; result: InvokeResult };
  snapshot: { payload: SnapshotPayload; result: GuestStateSnapshot };
  stop: { payload: { workerId: string }; result: Record<string, never> };
  /** Only as a control request (see ControlRequest): the instance stays, idle, until a `stop`. */
  export: { payload: { workerId: string }; result: ExportedInstance };
  adopt: { payload: AdoptPayload; result: StartedInstance };
}

export type WorkerOpName = keyof WorkerOps;

/** One op's request as posted to the thread; `timeoutMs` is set when the thread enforces the timeout itself. */
export type WorkerRequestOf<O extends WorkerOpName> = { type: 'worker'; id: number; op: O; payload: WorkerOps[O]['payload']; timeoutMs?: number };

/** A request of any op (discriminated by `op`). */
export type WorkerRequest = { [O in WorkerOpName]: WorkerRequestOf<O> }[WorkerOpName];

/**
 * Ops about an idle instance of a thread that must not wait for the op the thread runs (another
 * instance's call): sent on the thread's control port, served at the running guest's next
 * syscall or right after its op (worker-instance-thread's serveControlRequests).
 */
export type ControlRequest = WorkerRequestOf<'export'> | WorkerRequestOf<'stop'>;
