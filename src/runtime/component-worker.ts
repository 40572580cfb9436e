import { WarrenError } from '../errors.js';
import type { WasiState } from '../wasi/index.js';
import { Wasi2Host } from '../wasi2/wasi2-host.js';
import { commandRun, instantiateComponent, isComponentError, runCommand, type ComponentInstance } from './component-instance.js';
import { captureComponentState, readComponentGlobals, restoreComponentState, writeComponentGlobals } from './component-state.js';
import { threadFdBudget } from './guest-fd-budget.js';
import { restorePacks, scanPages, type MemoryShadow, type PageScan } from './memory-pages.js';
import { OutputBatcher } from './output-batcher.js';
import type { ComponentModules, GuestLimits, ThreadReply } from './thread-protocol.js';
import type { AdoptPayload, ExportedInstance, GuestStateSnapshot, InvokeResult, RestorePayload, SnapshotPayload, StartWorkerPayload, StartedInstance, WorkerRequestOf } from './worker-protocol.js';

/**
 * Thread side of component workers: the instance (every core instance, the glue's state and
 * Warren's WASI 0.2 host) stays here between calls, as a reactor's does. worker-instance-thread
 * hands `start` and `invoke` of a component here; calls of one worker are sequential already
 * (the API thread's queue).
 */
interface LiveComponent {
  host: Wasi2Host;
  instance: ComponentInstance;
  exports: Record<string, unknown>;
  memories: WebAssembly.Memory[];
  limits: GuestLimits;
  io: { stdout: OutputBatcher | null; stderr: OutputBatcher | null };
  /** Memory as the last snapshot scan saw it (see memory-pages' MemoryShadow); null until one. */
  shadow: MemoryShadow | null;
}

type Post = (reply: ThreadReply, transfer?: ArrayBuffer[]) => void;

const live = new Map<string, LiveComponent>();

export function hasComponentInstance(workerId: string): boolean {
  return live.has(workerId);
}

export function dropComponentInstance(workerId: string): void {
  live.get(workerId)?.host.close();
  live.delete(workerId);
}

export function startComponentInstance(p: StartWorkerPayload, mods: ComponentModules): StartedInstance {
  dropComponentInstance(p.workerId);
  const inst = createComponent(p, mods);
  live.set(p.workerId, inst);
  return { reactor: commandRun(inst.exports) === null, memoryBytes: totalBytes(inst.memories) };
}

/** A fresh instance over a new host, or over the preview1 state of a snapshot (`restored`). */
function createComponent(p: StartWorkerPayload, mods: ComponentModules, restored?: WasiState): LiveComponent {
  const io: LiveComponent['io'] = { stdout: null, stderr: null };
  const host = new Wasi2Host(
    {
      args: p.args,
      env: p.env,
      mounts: p.mounts,
      stdin: null,
      stdout: (c) => io.stdout?.write(c),
      stderr: (c) => io.stderr?.write(c),
      maxOutputBytes: p.limits.maxOutputBytes,
      diskQuotaBytes: p.limits.diskQuotaBytes,
      fdBudget: threadFdBudget(),
    },
    restored,
  );
  try {
    const instance = instantiateComponent(mods, host.imports);
    return { host, instance, exports: instance.exports, memories: instance.memories, limits: p.limits, io, shadow: null };
  } catch (err) {
    host.close();
    throw err;
  }
}

/**
 * A full snapshot of a component worker between two calls: the pages of its memory (as a core
 * module's), the exported globals of every core instance, the preview1 host's state (fds and
 * offsets) and the glue's resource tables with the host objects they hold. Anything it cannot
 * capture throws E_SNAPSHOT_FAILED before a page is sent, and the instance is left as it was.
 */
export function snapshotComponentInstance(req: WorkerRequestOf<'snapshot'>, post: Post, afterReply: (work: () => void) => void): GuestStateSnapshot {
  const p: SnapshotPayload = req.payload;
  const inst = live.get(p.workerId)!;
  const memory = onlyMemory(inst.memories);
  const component = captureComponentState(inst.host, inst.instance);
  const globals = readComponentGlobals(inst.instance.instances);
  const wasi = inst.host.bridge.host.exportState();
  const emit = (chunk: Uint8Array<ArrayBuffer>) => post({ type: 'stdout', id: req.id, chunk }, [chunk.buffer]);
  let scan: PageScan;
  if (p.shadowTag) {
    const { nextShadow, ...pages } = scanPages(memory, p.base, emit, { current: inst.shadow, baseTag: p.baseTag ?? null, nextTag: p.shadowTag });
    scan = pages;
    inst.shadow = null;
    afterReply(() => {
      inst.shadow = nextShadow();
    });
  } else {
    scan = scanPages(memory, p.base, emit);
    inst.shadow = null;
  }
  return { ...scan, globals, wasi, component };
}

/** A component worker from a full snapshot: a fresh instance of the same glue, its state put back. */
export function restoreComponentInstance(p: RestorePayload, mods: ComponentModules): StartedInstance {
  dropComponentInstance(p.workerId);
  if (!p.component) throw new WarrenError('E_SNAPSHOT_INVALID', 'the snapshot has no component state: it is of a core module');
  const inst = createComponent(p, mods, p.wasi);
  try {
    try {
      restorePacks(onlyMemory(inst.memories), p.pages, p);
    } catch (err) {
      if (err instanceof WarrenError) throw err;
      throw new WarrenError('E_SNAPSHOT_INVALID', `cannot restore memory: ${(err as Error).message}`);
    }
    writeComponentGlobals(inst.instance.instances, p.globals);
    restoreComponentState(inst.host, inst.instance, p.component);
  } catch (err) {
    inst.host.close();
    throw err;
  }
  live.set(p.workerId, inst);
  return { reactor: commandRun(inst.exports) === null, memoryBytes: totalBytes(inst.memories) };
}

/** A move's copy of a component instance (see worker-move-ops): what a full snapshot takes, memory whole. */
export function exportComponentInstance(workerId: string): ExportedInstance {
  const inst = live.get(workerId)!;
  const memory = onlyMemory(inst.memories);
  const component = captureComponentState(inst.host, inst.instance);
  return { memory: memory.buffer.slice(0), globals: readComponentGlobals(inst.instance.instances), wasi: inst.host.bridge.host.exportState(), component };
}

/** The instance of a move again, in this thread; `checkFiles` sees the reopened fds before it is live. */
export function adoptComponentInstance(p: AdoptPayload, mods: ComponentModules, checkFiles: (wasi: WasiState) => void): StartedInstance {
  dropComponentInstance(p.workerId);
  if (!p.component) throw new WarrenError('E_WORKER_STATE', 'the moved instance has no component state');
  const inst = createComponent(p, mods, p.wasi);
  try {
    const memory = onlyMemory(inst.memories);
    const pages = p.memory.byteLength / 65536;
    const have = memory.buffer.byteLength / 65536;
    if (pages > have) memory.grow(pages - have);
    new Uint8Array(memory.buffer).set(new Uint8Array(p.memory));
    writeComponentGlobals(inst.instance.instances, p.globals);
    restoreComponentState(inst.host, inst.instance, p.component);
    checkFiles(inst.host.bridge.host.exportState());
  } catch (err) {
    inst.host.close();
    throw err;
  }
  live.set(p.workerId, inst);
  return { reactor: commandRun(inst.exports) === null, memoryBytes: totalBytes(inst.memories) };
}

/** Snapshots cut one linear memory into pages; a component whose core instances define several is refused. */
function onlyMemory(memories: WebAssembly.Memory[]): WebAssembly.Memory {
  if (memories.length !== 1) {
    throw new WarrenError('E_SNAPSHOT_FAILED', `the component's core instances have ${memories.length} linear memories; a full snapshot takes exactly one`);
  }
  return memories[0]!;
}

/**
 * A typed call (`call`: the function's place in jco's export object and its arguments as jco
 * values), or without one the stdin/stdout convention: `wasi:cli/run` of a command component.
 * A function returning a WIT `result` throws its err payload (jco): that comes back as `error`.
 */
export function invokeComponentInstance(req: WorkerRequestOf<'invoke'>, post: Post): InvokeResult {
  const p = req.payload;
  const inst = live.get(p.workerId)!;
  inst.io.stdout = new OutputBatcher((chunk) => post({ type: 'stdout', id: req.id, chunk }));
  inst.io.stderr = new OutputBatcher((chunk) => post({ type: 'stderr', id: req.id, chunk }));
  try {
    if (p.call) {
      const fn = p.call.path.reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], inst.exports);
      if (typeof fn !== 'function') throw new WarrenError('E_NOT_FOUND', `the component exports no function at ${p.call.path.join('.')}`);
      try {
        const value = (fn as (...a: unknown[]) => unknown)(...p.call.args);
        return { component: { value }, memoryBytes: totalBytes(inst.memories), touched: inst.host.bridge.host.takeTouchedMounts() };
      } catch (err) {
        if (p.call.throwsResult && !(err instanceof Error && !isComponentError(err))) {
          return { component: { error: isComponentError(err) ? err.payload : err }, memoryBytes: totalBytes(inst.memories), touched: inst.host.bridge.host.takeTouchedMounts() };
        }
        throw err;
      }
    }
    const run = commandRun(inst.exports);
    if (!run) throw new WarrenError('E_BAD_REQUEST', 'the component exports no wasi:cli/run: name a function to call');
    inst.host.setStdin(p.stdin ?? new Uint8Array(0));
    const exitCode = runCommand(run);
    return {
      exitCode,
      memoryBytes: totalBytes(inst.memories),
      outputLimitExceeded: inst.host.outputLimitExceeded,
      diskQuotaExceeded: inst.host.diskQuotaExceeded,
      touched: inst.host.bridge.host.takeTouchedMounts(),
    };
  } finally {
    inst.io.stdout.flush();
    inst.io.stderr.flush();
    inst.io.stdout = null;
    inst.io.stderr = null;
  }
}

/** For error reports: the largest core memory and the limit. */
export function componentMemory(workerId: string): { bytes: number; maxBytes: number | null } | undefined {
  const inst = live.get(workerId);
  if (!inst || inst.memories.length === 0) return undefined;
  return { bytes: inst.memories.reduce((m, x) => Math.max(m, x.buffer.byteLength), 0), maxBytes: inst.limits.memoryMaxBytes };
}

function totalBytes(memories: WebAssembly.Memory[]): number {
  return memories.reduce((n, m) => n + m.buffer.byteLength, 0);
}
