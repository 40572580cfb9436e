import { WarrenError, isWarrenError, type ErrorCode } from '../../errors.js';
import type { InvokePayload } from '../../runtime/worker-protocol.js';
import type { RecordedCall } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { callWorkerOp } from './call-worker-op.js';
import { getWorker } from '../workers/get-worker.js';
import { enforceLiveBudget } from './evict-idle-workers.js';
import { ensureLiveInstance } from './ensure-live-instance.js';
import type { PendingCall } from './live-workers.js';
import { checkIdempotencyKey, findRecordedCall } from '../workers/idempotent-calls.js';
import { commitAfterCall } from './commit-after-call.js';
import { noteTouchedMounts } from './take-snapshot.js';
import { setWorkerStatus } from '../snapshots/set-worker-status.js';
import { readSnapshotSettings } from '../snapshots/snapshot-settings.js';
import { readWorkerSettings } from '../workers/read-worker-settings.js';
import { exportSignature } from '../workers/export-signatures.js';
import { coerceExportArgs } from '../../runtime/coerce-export-args.js';
import { checkCallableExport } from '../workers/check-callable-export.js';
import { argumentsToJs, findComponentFunction, resultToJson, returnsResult, type ComponentFunction } from '../components/wit-values.js';

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
  /**
   * A retry of a call with this key, within IDEMPOTENCY_WINDOW_MS, returns the first call's
   * result instead of running again (a retry while the first waits or runs joins it).
   */
  idempotencyKey?: string;
}

export interface InvokeWorkerResult {
  workerId: string;
  version: string;
  /** Values returned by the export (i64 and non-finite floats as strings); absent for `_start`. */
  returns?: (number | string)[];
  /** A component function's return value as JSON (the WIT ↔ JSON mapping of wit-values.ts); null for none. */
  result?: unknown;
  /** Exit code of `_start`; absent for exports. */
  exitCode?: number;
  /** True when this call started a fresh instance (first call, after an update, or no snapshot to go back to). */
  started: boolean;
  /** The snapshot this call resumed the worker from (it was paused, evicted, or its instance was lost), or null. */
  resumedFrom: string | null;
  durationMs: number;
  /** True when the result is the one recorded for the call's idempotency key: nothing ran now. */
  replayed: boolean;
  /** The snapshot `[snapshots] on_call` committed after this call, or null. */
  committed: string | null;
}

/** Errors after which the instance cannot be trusted: the next call starts a fresh one. */
const FATAL: ReadonlySet<string> = new Set<ErrorCode>(['E_TRAP', 'E_TIMEOUT', 'E_MEMORY_LIMIT', 'E_INTERNAL', 'E_EXTENSION_MISSING', 'E_WASM_INVALID', 'E_UNAVAILABLE', 'E_SNAPSHOT_FAILED']);

/**
 * Calls a worker. Calls of one worker wait in its queue (never concurrent); the instance and
 * its memory stay alive between calls. A paused worker is resumed first, transparently. A trap
 * or timeout marks the worker `failed` and drops its instance: the next call goes back to the
 * worker's last snapshot (or starts fresh from its files when it has none).
 */
export function invokeWorker(ctx: NodeContext, workerId: string, input: InvokeWorkerInput): Promise<InvokeWorkerResult> {
  const live = ctx.live;
  if (input.idempotencyKey === undefined) return live.enqueue(workerId, () => invokeNow(ctx, workerId, input), { admit: true });
  const key = checkIdempotencyKey(input.idempotencyKey);
  const joined = live.pendingCall(workerId, key) as PendingCall<InvokeWorkerResult> | undefined;
  if (joined) return joined.promise.then((r) => ({ ...r, replayed: true }));
  const call: PendingCall<InvokeWorkerResult> = { promise: Promise.resolve(null as unknown as InvokeWorkerResult), running: false, cancelled: false };
  call.promise = live.enqueue(workerId, () => {
    if (call.cancelled) throw new WarrenError('E_CANCELLED', `the call with idempotency key ${key} was cancelled before it ran`, { worker: workerId, idempotencyKey: key });
    call.running = true;
    return invokeNow(ctx, workerId, { ...input, idempotencyKey: key });
  }, { admit: true });
  live.addPendingCall(workerId, key, call);
  void call.promise.then(
    () => live.dropPendingCall(workerId, key, call),
    () => live.dropPendingCall(workerId, key, call),
  );
  return call.promise;
}

/**
 * Cancels a call by its idempotency key while it waits in the worker's queue: it never runs and
 * its caller gets E_CANCELLED. A call already running cannot be cancelled (E_WORKER_STATE).
 */
export function cancelInvocation(ctx: NodeContext, workerId: string, key: string): void {
  const call = ctx.live.pendingCall(workerId, checkIdempotencyKey(key));
  if (!call) throw new WarrenError('E_NOT_FOUND', `no queued call of worker ${workerId} has idempotency key ${key}`, { worker: workerId, idempotencyKey: key });
  if (call.running) throw new WarrenError('E_WORKER_STATE', `the call with idempotency key ${key} is running already`, { worker: workerId, idempotencyKey: key });
  call.cancelled = true;
}

async function invokeNow(ctx: NodeContext, workerId: string, input: InvokeWorkerInput): Promise<InvokeWorkerResult> {
  const started = performance.now();
  const live = ctx.live;
  const record = await getWorker(ctx, workerId);
  const key = input.idempotencyKey;
  const recorded = key === undefined ? null : (findRecordedCall(record.calls, key) ?? live.recordedCall(workerId, key));
  if (recorded) {
    ctx.metrics.callsReplayed.inc();
    const { at: _at, version: recordedVersion, ...result } = recorded;
    return { workerId, version: recordedVersion, ...result, started: false, resumedFrom: null, durationMs: performance.now() - started, replayed: true, committed: null };
  }
  // From the node's version cache: a version cannot be deleted while a worker uses it, and a
  // component's record (its WIT world) costs a JSON parse per call otherwise.
  const version = await ctx.versions.get(record.component, record.version);
  const { timeout } = readWorkerSettings(version).limits;
  const onCall = readSnapshotSettings(version).on_call;
  // Arguments are checked against the export's signature before anything changes: a call with
  // wrong ones neither resumes, nor marks, nor reaches the worker.
  let args: InvokePayload['args'];
  // A component's functions take typed values (JSON per the WIT mapping), checked against its world.
  let call: InvokePayload['call'];
  let target: ComponentFunction | null = null;
  try {
    if (version.world) {
      if (input.export) {
        target = findComponentFunction(version.world, input.export);
        call = { path: target.jsPath, args: argumentsToJs(target, input.args ?? []), throwsResult: returnsResult(target) };
      }
    } else {
      if (input.export) checkCallableExport(input.export);
      args = input.export ? coerceExportArgs(input.export, await exportSignature(ctx, version, input.export), input.args ?? []) : undefined;
    }
  } catch (err) {
    ctx.metrics.invocations.inc({ outcome: 'error' });
    if (isWarrenError(err)) err.details.worker = workerId;
    throw err;
  }
  // A warm call of an idle worker writes nothing to the registry (nothing durable changes); the
  // status is written only when it changes: a paused worker resumes, a failed one recovers, a
  // mark left by a crash (running, committing...) is cleared. The queue is ours now.
  if (record.status === 'paused') await setWorkerStatus(ctx, workerId, 'resuming');
  let fresh = false;
  let resumedFrom: string | null = null;
  try {
    const ensured = await ensureLiveInstance(ctx, record);
    const inst = ensured.inst;
    fresh = ensured.how === 'started';
    resumedFrom = ensured.snapshot;
    if (ensured.how !== 'live') enforceLiveBudget(ctx);
    if (!input.export && inst.reactor) {
      throw new WarrenError('E_BAD_REQUEST', `worker ${workerId} runs a reactor module (no _start): name an export to call`, { id: workerId });
    }
    const payload: InvokePayload = call ? { workerId, call } : { workerId, export: input.export, args, stdin: input.stdin };
    const result = await callWorkerOp(inst.slot, 'invoke', payload, { timeoutMs: timeout, onStdout: input.onStdout, onStderr: input.onStderr });
    inst.lastUsed = Date.now();
    inst.memoryBytes = result.memoryBytes;
    noteTouchedMounts(inst, 'touched' in result ? result.touched : undefined);
    if ('outputLimitExceeded' in result && result.outputLimitExceeded) {
      throw new WarrenError('E_OUTPUT_LIMIT', `worker wrote more than ${ctx.maxOutputBytes} bytes of output and was cut off`, { limitBytes: ctx.maxOutputBytes });
    }
    const outcome = 'component' in result ? { result: resultToJson(target!, result.component) } : 'returns' in result ? { returns: result.returns } : { exitCode: result.exitCode };
    const recordedCall: RecordedCall = { at: new Date().toISOString(), version: record.version, ...outcome };
    let committed: string | null = null;
    if (onCall !== 'none') {
      // Durable before the reply: the snapshot, and the key with it, or no acknowledgement.
      committed = (await commitAfterCall(ctx, record, version, onCall, inst, key === undefined ? undefined : { key, result: recordedCall })).id;
    } else {
      if (record.status !== 'idle') await setWorkerStatus(ctx, workerId, 'idle');
      if (key !== undefined) live.recordCall(workerId, key, recordedCall);
    }
    ctx.metrics.invocations.inc({ outcome: 'ok' });
    return { workerId, version: record.version, ...outcome, started: fresh, resumedFrom, durationMs: performance.now() - started, replayed: false, committed };
  } catch (err) {
    ctx.metrics.invocations.inc({ outcome: 'error' });
    // Whatever the guest did before the error is not known: its next snapshot walks every file.
    const kept = live.get(workerId);
    if (kept) kept.touched = null;
    const code = isWarrenError(err) ? err.code : 'E_INTERNAL';
    const fatal = FATAL.has(code);
    if (fatal) {
      await live.stop(workerId);
      ctx.metrics.liveWorkers.set(live.size);
    }
    const message = err instanceof Error ? err.message : String(err);
    // Refused for room under the live budget (E_BUSY), a paused worker stays paused.
    const after = fatal ? 'failed' : code === 'E_BUSY' && record.status === 'paused' ? 'paused' : 'idle';
    if (fatal || record.status !== after) await setWorkerStatus(ctx, workerId, after, fatal ? { code, message } : undefined).catch(() => undefined);
    if (isWarrenError(err)) err.details.worker = workerId;
    throw err;
  }
}
