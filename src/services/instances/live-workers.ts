import { WarrenError } from '../../errors.js';
import type { RecordedCall } from '../../records.js';
import { findRecordedCall, withRecordedCall } from '../workers/idempotent-calls.js';
import type { InstanceSlot } from '../../runtime/instance-slot.js';
import type { SnapshotBase } from '../snapshots/snapshot-store.js';
import type { KnownFiles } from './take-snapshot.js';

/** A worker's instance kept alive on a guest thread between invocations. */
export interface LiveInstance {
  /** Where it lives (a shared instance thread, or a thread of its own without the deadline addon). */
  slot: InstanceSlot;
  /** Component version the instance was started from (an update stops it). */
  version: string;
  /** Reactor (has `_initialize` or no `_start`) vs command module. */
  reactor: boolean;
  /** Linear memory size after the last op, bytes (for the live memory budget). */
  memoryBytes: number;
  /** When the instance last ran an op (ms since the epoch): idle eviction picks by it. */
  lastUsed: number;
  base: SnapshotBase | null;
  /** The files of the last snapshot recorded from this instance (see take-snapshot's KnownFiles). */
  files: KnownFiles | null;
  /** Guest paths of the mounts calls may have changed since `files` was taken; null = unknown (walk them all). */
  touched: Set<string> | null;
}

/**
 * The node's live worker instances and the per-worker queues. Every operation on one worker
 * (invocation, file read, update, delete) runs through `enqueue`, so they never overlap: a
 * file read sees the state between invocations, an update never races a call. Different
 * workers have different queues, so they run in parallel on the guest threads.
 */
/** A call with an idempotency key that waits in its worker's queue or runs. */
export interface PendingCall<T = unknown> {
  promise: Promise<T>;
  running: boolean;
  cancelled: boolean;
}

/** Calls one worker may have waiting or running before the next is refused with E_BUSY. */
export const DEFAULT_MAX_QUEUED_CALLS = 256;

export class LiveWorkers {
  private readonly queues = new Map<string, Promise<void>>();
  /** Calls (`admit`) waiting or running per worker. */
  private readonly queuedCalls = new Map<string, number>();
  /** Past this many calls of one worker in its queue, another is refused (503 E_BUSY, Retry-After) instead of queued without bound. */
  maxQueuedCalls = DEFAULT_MAX_QUEUED_CALLS;
  private readonly instances = new Map<string, LiveInstance>();
  /** Keyed calls queued or running, by worker then key: a second call with the key joins the first. */
  private readonly pending = new Map<string, Map<string, PendingCall>>();
  /** Results of keyed calls of workers without `on_call` (kept while the node runs; on_call workers keep them in their record). */
  private readonly recorded = new Map<string, Record<string, RecordedCall>>();
  /** Resolvers of `nextDrain`. */
  private drainWaiters: (() => void)[] = [];

  pendingCall(workerId: string, key: string): PendingCall | undefined {
    return this.pending.get(workerId)?.get(key);
  }

  addPendingCall(workerId: string, key: string, call: PendingCall): void {
    let byKey = this.pending.get(workerId);
    if (!byKey) this.pending.set(workerId, (byKey = new Map()));
    byKey.set(key, call);
  }

  dropPendingCall(workerId: string, key: string, call: PendingCall): void {
    const byKey = this.pending.get(workerId);
    if (byKey?.get(key) !== call) return;
    byKey.delete(key);
    if (byKey.size === 0) this.pending.delete(workerId);
  }

  recordedCall(workerId: string, key: string, now = Date.now()): RecordedCall | null {
    return findRecordedCall(this.recorded.get(workerId), key, now);
  }

  recordCall(workerId: string, key: string, call: RecordedCall): void {
    this.recorded.set(workerId, withRecordedCall(this.recorded.get(workerId), key, call));
  }

  forgetCalls(workerId: string): void {
    this.recorded.delete(workerId);
  }

  /** Calls of the worker queued or running now. */
  queuedCallsOf(workerId: string): number {
    return this.queuedCalls.get(workerId) ?? 0;
  }

  /**
   * Runs `task` after the worker's earlier operations. A call (`admit`) is refused with E_BUSY
   * when the worker already has `maxQueuedCalls` calls queued or running.
   */
  enqueue<T>(workerId: string, task: () => Promise<T>, opts: { admit?: boolean } = {}): Promise<T> {
    if (opts.admit) {
      const queued = this.queuedCalls.get(workerId) ?? 0;
      if (queued >= this.maxQueuedCalls) {
        return Promise.reject(
          new WarrenError('E_BUSY', `worker ${workerId} has ${queued} calls queued already; retry later`, { worker: workerId, queued, retryAfterSeconds: 1 }),
        );
      }
      this.queuedCalls.set(workerId, queued + 1);
    }
    const previous = this.queues.get(workerId) ?? Promise.resolve();
    const run = previous.then(task);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(workerId, tail);
    void tail.then(() => {
      if (this.queues.get(workerId) === tail) {
        this.queues.delete(workerId);
        this.drained();
      }
      if (!opts.admit) return;
      const left = (this.queuedCalls.get(workerId) ?? 1) - 1;
      if (left > 0) this.queuedCalls.set(workerId, left);
      else this.queuedCalls.delete(workerId);
    });
    return run;
  }

  get(workerId: string): LiveInstance | undefined {
    const inst = this.instances.get(workerId);
    if (inst && !inst.slot.alive) {
      this.instances.delete(workerId);
      return undefined;
    }
    return inst;
  }

  set(workerId: string, inst: LiveInstance): void {
    this.instances.set(workerId, inst);
  }

  get size(): number {
    return this.instances.size;
  }

  /** Live instances (lost ones dropped), for eviction. */
  entries(): [string, LiveInstance][] {
    return [...this.instances.keys()].flatMap((id) => {
      const inst = this.get(id);
      return inst ? [[id, inst] as [string, LiveInstance]] : [];
    });
  }

  /** True while an operation of the worker runs or waits in its queue. */
  busy(workerId: string): boolean {
    return this.queues.has(workerId);
  }

  /** Resolves the next time some worker's queue empties (a start waiting for room under the live budget retries then). */
  nextDrain(): Promise<void> {
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private drained(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Drops the instance (a thread of its own ends with it). */
  async stop(workerId: string): Promise<boolean> {
    const inst = this.instances.get(workerId);
    if (!inst) return false;
    this.instances.delete(workerId);
    await inst.slot.release();
    return true;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.instances.keys()].map((id) => this.stop(id)));
  }
}


