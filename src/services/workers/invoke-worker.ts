import { WarrenError, isWarrenError, type ErrorCode } from '../../errors.js';
import type { InvokePayload } from '../../runtime/worker-instance-thread.js';
import type { WorkerRecord } from '../../records.js';
import { getComponentVersion } from '../components/component-keys.js';
import type { NodeContext } from '../node-context.js';
import { callWorkerOp } from './call-worker-op.js';
import { getWorker } from './get-worker.js';
import { enforceLiveBudget } from '../snapshots/evict-idle-workers.js';
import { ensureLiveInstance } from '../snapshots/ensure-live-instance.js';
import { liveWorkersOf } from './live-workers.js';
import { readWorkerSettings } from './read-worker-settings.js';
import { updateWorkerRecord } from './update-worker-record.js';
import { exportSignature } from './export-signatures.js';
import { coerceExportArgs } from '../../runtime/coerce-export-args.js';

export interface InvokeWorkerInput {
  /** An exported function; absent = the stdin/stdout convention (`_start`). */
  export?: string;
  /**
   * Arguments of the export as JSON gives them: an array of numbers or decimal strings (i64
   * beyond 2^53, "NaN"/"Infinity" for floats). Checked against the export's signature; anything
   * that does not fit (not an array included) is E_BAD_ARGS.
   */
  args?: unknown;
  stdin?: Uint8Array;
  onStdout?: (chunk: Uint8Array) => void;
  onStderr?: (chunk: Uint8Array) => void;
}

export interface InvokeWorkerResult {
  workerId: string;
  version: string;
  /** Values returned by the export (i64 and non-finite floats as strings); absent for `_start`. */
  returns?: (number | string)[];
  /** Exit code of `_start`; absent for exports. */
  exitCode?: number;
  /** True when this call started a fresh instance (first call, after an update, or no snapshot to go back to). */
  started: boolean;
  /** The snapshot this call resumed the worker from (it was paused, evicted, or its instance was lost), or null. */
  resumedFrom: string | null;
  durationMs: number;
}

/** Errors after which the instance cannot be trusted: the next call starts a fresh one. */
const FATAL: ReadonlySet<string> = new Set<ErrorCode>(['E_TRAP', 'E_TIMEOUT', 'E_MEMORY_LIMIT', 'E_INTERNAL', 'E_EXTENSION_MISSING', 'E_WASM_INVALID', 'E_UNAVAILABLE']);

/**
 * Calls a worker. Calls of one worker wait in its queue (never concurrent); the instance and
 * its memory stay alive between calls. A paused worker is resumed first, transparently. A trap
 * or timeout marks the worker `failed` and drops its instance: the next call goes back to the
 * worker's last snapshot (or starts fresh from its files when it has none).
 */
export function invokeWorker(ctx: NodeContext, workerId: string, input: InvokeWorkerInput): Promise<InvokeWorkerResult> {
  return liveWorkersOf(ctx).enqueue(workerId, () => invokeNow(ctx, workerId, input));
}

async function invokeNow(ctx: NodeContext, workerId: string, input: InvokeWorkerInput): Promise<InvokeWorkerResult> {
  const started = performance.now();
  const live = liveWorkersOf(ctx);
  const record = await getWorker(ctx, workerId);
  const version = await getComponentVersion(ctx.ports.registry, record.component, record.version);
  const { timeout } = readWorkerSettings(version).limits;
  // Arguments are checked against the export's signature before anything changes: a call with
  // wrong ones neither resumes, nor marks, nor reaches the worker.
  let args: InvokePayload['args'];
  try {
    args = input.export ? coerceExportArgs(input.export, await exportSignature(ctx, version, input.export), input.args ?? []) : undefined;
  } catch (err) {
    ctx.metrics.invocations.inc({ outcome: 'error' });
    if (isWarrenError(err)) err.details.worker = workerId;
    throw err;
  }
  // Statuses other than idle/failed seen here are marks left by a crash: the queue is ours now.
  await setStatus(ctx, workerId, record.status === 'paused' ? 'resuming' : 'running');
  let fresh = false;
  let resumedFrom: string | null = null;
  try {
    const ensured = await ensureLiveInstance(ctx, record);
    const inst = ensured.inst;
    fresh = ensured.how === 'started';
    resumedFrom = ensured.snapshot;
    if (ensured.how !== 'live') enforceLiveBudget(ctx);
    if (record.status === 'paused') await setStatus(ctx, workerId, 'running');
    if (!input.export && inst.reactor) {
      throw new WarrenError('E_BAD_REQUEST', `worker ${workerId} runs a reactor module (no _start): name an export to call`, { id: workerId });
    }
    const payload: InvokePayload = { workerId, export: input.export, args, stdin: input.stdin };
    const result = await callWorkerOp(inst.thread, 'invoke', payload, { timeoutMs: timeout, onStdout: input.onStdout, onStderr: input.onStderr });
    inst.lastUsed = Date.now();
    inst.memoryBytes = Number(result.memoryBytes ?? inst.memoryBytes);
    if (result.outputLimitExceeded) {
      throw new WarrenError('E_OUTPUT_LIMIT', `worker wrote more than ${ctx.maxOutputBytes} bytes of output and was cut off`, { limitBytes: ctx.maxOutputBytes });
    }
    await setStatus(ctx, workerId, 'idle');
    ctx.metrics.invocations.inc({ outcome: 'ok' });
    return {
      workerId,
      version: record.version,
      ...(input.export ? { returns: (result.returns as (number | string)[]) ?? [] } : { exitCode: Number(result.exitCode) }),
      started: fresh,
      resumedFrom,
      durationMs: performance.now() - started,
    };
  } catch (err) {
    ctx.metrics.invocations.inc({ outcome: 'error' });
    const code = isWarrenError(err) ? err.code : 'E_INTERNAL';
    const fatal = FATAL.has(code);
    if (fatal) {
      await live.stop(workerId);
      ctx.metrics.liveWorkers.set(live.size);
    }
    const message = err instanceof Error ? err.message : String(err);
    await setStatus(ctx, workerId, fatal ? 'failed' : 'idle', fatal ? { code, message } : undefined).catch(() => undefined);
    if (isWarrenError(err)) err.details.worker = workerId;
    throw err;
  }
}

/** Status changes never resurrect a worker that was deleted meanwhile. */
async function setStatus(ctx: NodeContext, workerId: string, status: WorkerRecord['status'], error?: WorkerRecord['error']): Promise<void> {
  await updateWorkerRecord(ctx, workerId, (r) => {
    if (r.status === 'deleted') return null;
    const next: WorkerRecord = { ...r, status };
    if (error) next.error = error;
    else if (status !== 'failed') delete next.error;
    return next;
  });
}
