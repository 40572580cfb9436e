import { WarrenError } from '../errors.js';
import { Wasi2Host } from '../wasi2/wasi2-host.js';
import { commandRun, instantiateComponent, isComponentError, runCommand } from './component-instance.js';
import { threadFdBudget } from './guest-fd-budget.js';
import { OutputBatcher } from './output-batcher.js';
import type { ComponentModules, GuestLimits, ThreadReply } from './thread-protocol.js';
import type { InvokeResult, StartWorkerPayload, StartedInstance, WorkerRequestOf } from './worker-protocol.js';

/**
 * Thread side of component workers: the instance (every core instance, the glue's state and
 * Warren's WASI 0.2 host) stays here between calls, as a reactor's does. worker-instance-thread
 * hands `start` and `invoke` of a component here; calls of one worker are sequential already
 * (the API thread's queue).
 */
interface LiveComponent {
  host: Wasi2Host;
  exports: Record<string, unknown>;
  memories: WebAssembly.Memory[];
  limits: GuestLimits;
  io: { stdout: OutputBatcher | null; stderr: OutputBatcher | null };
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
  const io: LiveComponent['io'] = { stdout: null, stderr: null };
  const host = new Wasi2Host({
    args: p.args,
    env: p.env,
    mounts: p.mounts,
    stdin: null,
    stdout: (c) => io.stdout?.write(c),
    stderr: (c) => io.stderr?.write(c),
    maxOutputBytes: p.limits.maxOutputBytes,
    diskQuotaBytes: p.limits.diskQuotaBytes,
    fdBudget: threadFdBudget(),
  });
  try {
    const instance = instantiateComponent(mods, host.imports);
    live.set(p.workerId, { host, exports: instance.exports, memories: instance.memories, limits: p.limits, io });
    return { reactor: commandRun(instance.exports) === null, memoryBytes: totalBytes(instance.memories) };
  } catch (err) {
    host.close();
    throw err;
  }
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
        return { component: { value }, memoryBytes: totalBytes(inst.memories) };
      } catch (err) {
        if (p.call.throwsResult && !(err instanceof Error && !isComponentError(err))) {
          return { component: { error: isComponentError(err) ? err.payload : err }, memoryBytes: totalBytes(inst.memories) };
        }
        throw err;
      }
    }
    const run = commandRun(inst.exports);
    if (!run) throw new WarrenError('E_BAD_REQUEST', 'the component exports no wasi:cli/run: name a function to call');
    inst.host.setStdin(p.stdin ?? new Uint8Array(0));
    const exitCode = runCommand(run);
    return { exitCode, memoryBytes: totalBytes(inst.memories), outputLimitExceeded: inst.host.outputLimitExceeded, diskQuotaExceeded: inst.host.diskQuotaExceeded };
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
