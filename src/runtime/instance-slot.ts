import { WarrenError } from '../errors.js';
import type { GuestThread } from './guest-thread.js';
import type { RunOptions } from './guest-pool.js';
import { callWithTimeout, unwrapReply } from './guest-pool.js';
import type { WorkerOpName, WorkerOps } from './worker-protocol.js';

/**
 * Where one live worker instance lives: a place on a guest thread that runs its ops (`start` or
 * `restore` first, then `invoke`, `snapshot`...). Calls of one worker never overlap (its queue in
 * LiveWorkers), so a slot runs one op at a time.
 */
export interface InstanceSlot {
  /** False once the instance is gone: its thread died, or the thread dropped it at a timeout. */
  readonly alive: boolean;
  /** Runs one op; past `opts.timeoutMs` it fails with E_TIMEOUT and the instance is gone. */
  call<O extends WorkerOpName>(op: O, payload: WorkerOps[O]['payload'], opts: RunOptions): Promise<WorkerOps[O]['result']>;
  /** Drops the instance (a thread of its own ends with it). */
  release(): Promise<void>;
}

/**
 * A worker instance on a thread of its own (no deadline addon: the only way to stop a guest
 * that overruns is to terminate its thread, and that must not take other workers with it).
 */
export class OwnThreadSlot implements InstanceSlot {
  constructor(readonly thread: GuestThread) {}

  get alive(): boolean {
    return this.thread.alive;
  }

  async call<O extends WorkerOpName>(op: O, payload: WorkerOps[O]['payload'], opts: RunOptions): Promise<WorkerOps[O]['result']> {
    if (!this.thread.alive) throw instanceLost();
    const reply = await callWithTimeout(this.thread, { type: 'worker', op, payload } as Parameters<GuestThread['call']>[0], opts);
    // The thread's reply is the op's result (worker-protocol.ts types both ends of it).
    return unwrapReply(reply) as WorkerOps[O]['result'];
  }

  async release(): Promise<void> {
    await this.thread.terminate();
  }
}

export function instanceLost(): WarrenError {
  return new WarrenError('E_UNAVAILABLE', 'the worker\'s live instance was lost (its guest thread ended)');
}
