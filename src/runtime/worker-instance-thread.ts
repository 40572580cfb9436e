import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { setSyscallCheckpoint, WasiHost } from '../wasi/index.js';
import { runWithDeadline } from './deadline.js';
import { componentMemory, dropComponentInstance, hasComponentInstance, invokeComponentInstance, startComponentInstance } from './component-worker.js';
import { classifyGuestError, timeoutError } from './guest-error.js';
import { threadFdBudget } from './guest-fd-budget.js';
import { guestMemory, linkGuest } from './link-guest.js';
import { OutputBatcher } from './output-batcher.js';
import type { MemoryShadow } from './memory-pages.js';
import type { GuestLimits, LinkedModules, ThreadReply } from './thread-protocol.js';
import type { ControlRequest, StartWorkerPayload, WorkerOpName, WorkerOps, WorkerRequest, WorkerRequestOf } from './worker-protocol.js';
import type { WasmArg } from './coerce-export-args.js';

/**
 * Thread side of long-lived worker instances: the instance, its memory and its WASI state stay
 * in this thread between invocations. A thread holds many workers' instances (InstanceThreads)
 * or, without the deadline addon, one (its own thread: a timeout terminates the thread). With
 * the addon, an op carries its timeout and is stopped here at it (TerminateExecution): only the
 * instance that overran is dropped, its neighbours on this thread keep their memory.
 */
interface LiveInstance {
  instance: WebAssembly.Instance;
  wasi: WasiHost;
  memory: WebAssembly.Memory | null;
  limits: GuestLimits;
  /** Redirected per invocation: the WASI host's stdio callbacks write here. */
  io: { stdin: Uint8Array; stdout: OutputBatcher | null; stderr: OutputBatcher | null };
  /** Memory as the last snapshot scan saw it (see memory-pages' MemoryShadow); null until one. */
  shadow?: MemoryShadow | null;
}

type Post = (reply: ThreadReply, transfer?: ArrayBuffer[]) => void;

type Op<O extends WorkerOpName> = (req: WorkerRequestOf<O>, post: Post) => WorkerOps[O]['result'];

/** Linked sets this thread holds at most; past that the oldest is forgotten (the API thread sends it again). */
const MAX_LINKED_SETS = 64;

const live = new Map<string, LiveInstance>();
const ops = new Map<WorkerOpName, Op<WorkerOpName>>();
const linkedSets = new Map<string, LinkedModules>();
/** [id of the op running or 0, its start in ms since the epoch]: InstanceThreads' backstop reads it. */
let progress: Float64Array | null = null;
/** Work an op leaves for after its reply is posted: it runs before the thread takes its next request. */
let afterReply: (() => void)[] = [];
/** The worker whose op this thread runs now; null between ops. */
let runningWorker: string | null = null;
/** Where control requests come from (InstanceThreads' threads): `flag` is set once one is posted. */
let control: { port: MessagePort; flag: Int32Array; post: Post } | null = null;
/** The control request being served: a deadline that stops the running guest may stop it halfway. */
let serving: ControlRequest | null = null;

/**
 * Defers `work` until the current op's reply has been posted. Nothing of any guest runs in
 * between (the next request waits for this thread), so memory is as the op left it.
 */
export function runAfterReply(work: () => void): void {
  afterReply.push(work);
}

export function registerWorkerOp<O extends WorkerOpName>(name: O, op: Op<O>): void {
  ops.set(name, op as unknown as Op<WorkerOpName>);
}

/** Where this thread shows the op it runs (given in its workerData by InstanceThreads). */
export function showWorkerProgressIn(buffer: SharedArrayBuffer): void {
  progress = new Float64Array(buffer);
}

export function liveInstance(workerId: string): LiveInstance {
  const inst = live.get(workerId);
  if (!inst) throw Object.assign(new Error(`worker ${workerId} has no live instance in this thread`), { code: 'E_WORKER_STATE' });
  return inst;
}

export function setLiveInstance(workerId: string, inst: LiveInstance): void {
  live.set(workerId, inst);
}

/** Forgets a worker's instance and closes the host fds its WASI state holds. */
export function dropLiveInstance(workerId: string): void {
  live.get(workerId)?.wasi.close();
  live.delete(workerId);
  dropComponentInstance(workerId);
}

/** Live instances in this thread (for tests and the bench). */
export function liveInstanceCount(): number {
  return live.size;
}

export function handleWorkerRequest(req: WorkerRequest, post: Post): void {
  const op = ops.get(req.op);
  const workerId = req.payload.workerId;
  if (progress) {
    progress[1] = Date.now();
    progress[0] = req.id;
  }
  runningWorker = workerId;
  try {
    if (!op) throw Object.assign(new Error(`unknown worker op ${req.op}`), { code: 'E_INTERNAL' });
    const timeoutMs = req.timeoutMs;
    const result = timeoutMs !== undefined && runWithDeadline ? runWithDeadline(() => op(req, post), timeoutMs) : op(req, post);
    post({ type: 'done', id: req.id, result: result as Record<string, unknown> });
  } catch (err) {
    if (req.timeoutMs !== undefined && (err as { code?: unknown } | null)?.code === 'E_DEADLINE') {
      // Stopped anywhere, even inside the WASI host: this instance cannot be trusted any more,
      // and only this one is dropped. The API thread brings the worker back from its snapshot.
      dropLiveInstance(workerId);
      post({ type: 'error', id: req.id, error: timeoutError(req.timeoutMs).toJSON() });
      return;
    }
    const inst = live.get(workerId);
    const mem = inst?.memory ? { bytes: inst.memory.buffer.byteLength, maxBytes: inst.limits.memoryMaxBytes } : componentMemory(workerId);
    post({ type: 'error', id: req.id, error: classifyGuestError(err, mem) });
  } finally {
    if (progress) progress[0] = 0;
    runningWorker = null;
    // Served inside the guest's syscall, a control request is stopped with the guest at its
    // deadline: it is served again (export and stop only read or drop an idle instance).
    const interrupted = serving;
    serving = null;
    if (interrupted) serveControl(interrupted);
    serveControlRequests();
    const work = afterReply;
    afterReply = [];
    // Deferred work only saves later work (a shadow, say): its failure must not take the thread down.
    for (const w of work) {
      try {
        w();
      } catch {
        // The work's own state says it did not happen (a shadow left null is rebuilt by hashing).
      }
    }
  }
}

/**
 * Has this thread serve control requests (ControlRequest): at once when it is idle, else at the
 * running guest's next syscall (a guest waiting on something outside makes syscalls) or right
 * after its op. A guest computing without syscalls holds them until its op ends.
 */
export function takeControlRequests(port: MessagePort, flag: SharedArrayBuffer, post: Post): void {
  control = { port, flag: new Int32Array(flag), post };
  port.on('message', (req: ControlRequest) => serveControl(req));
  setSyscallCheckpoint(serveControlRequests);
}

function serveControlRequests(): void {
  if (control === null || Atomics.load(control.flag, 0) === 0) return;
  Atomics.store(control.flag, 0, 0);
  for (let m = receiveMessageOnPort(control.port); m; m = receiveMessageOnPort(control.port)) serveControl(m.message as ControlRequest);
}

function serveControl(req: ControlRequest): void {
  const post = control!.post;
  serving = req;
  try {
    const op = ops.get(req.op);
    if (!op || (req.op !== 'export' && req.op !== 'stop')) throw Object.assign(new Error(`${req.op} is no control op`), { code: 'E_INTERNAL' });
    // The API thread never asks about the instance in a call; this thread checks it anyway.
    if (req.payload.workerId === runningWorker) throw Object.assign(new Error(`worker ${runningWorker} is in a call`), { code: 'E_WORKER_STATE' });
    const result = op(req, post) as Record<string, unknown>;
    post({ type: 'done', id: req.id, result }, result.memory instanceof ArrayBuffer ? [result.memory] : []);
  } catch (err) {
    post({ type: 'error', id: req.id, error: classifyGuestError(err) });
  }
  serving = null;
}

/** The linked set of a start: sent along the first time, then taken from this thread's cache. */
export function modulesOf(p: StartWorkerPayload): LinkedModules {
  if (p.modules) {
    if (p.modulesKey !== undefined) {
      if (linkedSets.size >= MAX_LINKED_SETS && !linkedSets.has(p.modulesKey)) linkedSets.delete(linkedSets.keys().next().value!);
      linkedSets.set(p.modulesKey, p.modules);
    }
    return p.modules;
  }
  const known = p.modulesKey === undefined ? undefined : linkedSets.get(p.modulesKey);
  if (!known) throw Object.assign(new Error(`guest thread lost linked set ${p.modulesKey}`), { code: 'E_INTERNAL' });
  return known;
}

/** Builds a WASI host whose stdio goes wherever the current invocation points it. */
export function createInstance(p: StartWorkerPayload, restoreState?: Parameters<typeof WasiHost.restore>[0]): LiveInstance {
  const modules = modulesOf(p);
  const io: LiveInstance['io'] = { stdin: new Uint8Array(0), stdout: null, stderr: null };
  const common = {
    stdout: (c: Uint8Array) => io.stdout?.write(c),
    stderr: (c: Uint8Array) => io.stderr?.write(c),
    maxOutputBytes: p.limits.maxOutputBytes,
    diskQuotaBytes: p.limits.diskQuotaBytes,
    fdBudget: threadFdBudget(),
  };
  const wasi = restoreState
    ? WasiHost.restore(restoreState, { ...common, stdin: null })
    : new WasiHost({ args: p.args, env: p.env, mounts: p.mounts, stdin: null, ...common });
  let instance: WebAssembly.Instance;
  try {
    instance = linkGuest(modules, wasi);
  } catch (err) {
    wasi.close();
    throw err;
  }
  return { instance, wasi, memory: guestMemory(instance), limits: p.limits, io };
}

/**
 * A worker's instance made again from saved state (a restore's pages, a move's whole memory):
 * a new instance of its module with `wasiState` restored, its memory and globals set by `fill`,
 * then made the worker's live instance. Its host fds are closed if anything fails.
 */
export function rebuildLiveInstance(
  p: StartWorkerPayload,
  wasiState: Parameters<typeof WasiHost.restore>[0],
  noMemory: Error,
  fill: (inst: LiveInstance, memory: WebAssembly.Memory) => void,
): { reactor: boolean; memoryBytes: number } {
  const inst = createInstance(p, wasiState);
  const memory = inst.memory;
  try {
    if (!memory) throw noMemory;
    fill(inst, memory);
    inst.wasi.bind(memory);
  } catch (err) {
    inst.wasi.close();
    throw err;
  }
  setLiveInstance(p.workerId, inst);
  return { reactor: isReactor(inst.instance), memoryBytes: memory.buffer.byteLength };
}

/** Reactor (has `_initialize`, or no `_start`) vs command module. */
export function isReactor(instance: WebAssembly.Instance): boolean {
  return typeof instance.exports._initialize === 'function' || typeof instance.exports._start !== 'function';
}

registerWorkerOp('start', (req) => {
  const p = req.payload;
  dropLiveInstance(p.workerId);
  const component = modulesOf(p).component;
  if (component) return startComponentInstance(p, component);
  const inst = createInstance(p);
  live.set(p.workerId, inst);
  const reactor = isReactor(inst.instance);
  if (reactor) inst.wasi.initialize(inst.instance);
  else if (inst.memory) inst.wasi.bind(inst.memory);
  return { reactor, memoryBytes: inst.memory?.buffer.byteLength ?? 0 };
});

registerWorkerOp('invoke', (req, post) => {
  const p = req.payload;
  if (hasComponentInstance(p.workerId)) return invokeComponentInstance(req, post);
  const inst = liveInstance(p.workerId);
  inst.io.stdin = p.stdin ?? new Uint8Array(0);
  inst.io.stdout = new OutputBatcher((chunk) => post({ type: 'stdout', id: req.id, chunk }));
  inst.io.stderr = new OutputBatcher((chunk) => post({ type: 'stderr', id: req.id, chunk }));
  inst.wasi.setStdin(inst.io.stdin);
  try {
    if (p.export) {
      const fn = inst.instance.exports[p.export];
      if (typeof fn !== 'function') {
        throw Object.assign(new Error(`the worker's module exports no function ${JSON.stringify(p.export)}`), { code: 'E_NOT_FOUND', details: { export: p.export } });
      }
      const ret = (fn as (...a: WasmArg[]) => unknown)(...(p.args ?? []));
      const returns = ret === undefined ? [] : Array.isArray(ret) ? ret : [ret];
      // JSON has no i64 and no NaN/Infinity: those go back as strings.
      const json = (v: unknown) => (typeof v === 'bigint' || (typeof v === 'number' && !Number.isFinite(v)) ? String(v) : (v as number));
      return { returns: returns.map(json), memoryBytes: inst.memory?.buffer.byteLength ?? 0, touched: inst.wasi.takeTouchedMounts() };
    }
    const exitCode = inst.wasi.start(inst.instance);
    return {
      exitCode,
      memoryBytes: inst.memory?.buffer.byteLength ?? 0,
      outputLimitExceeded: inst.wasi.outputLimitExceeded,
      diskQuotaExceeded: inst.wasi.diskQuotaExceeded,
      touched: inst.wasi.takeTouchedMounts(),
    };
  } finally {
    inst.io.stdout.flush();
    inst.io.stderr.flush();
    inst.io.stdout = null;
    inst.io.stderr = null;
  }
});

registerWorkerOp('stop', (req) => {
  dropLiveInstance(req.payload.workerId);
  return {};
});
