import type { RunOptions } from '../../runtime/guest-pool.js';
import type { InstanceSlot } from '../../runtime/instance-slot.js';
import type { WorkerOpName, WorkerOps } from '../../runtime/worker-protocol.js';

/** Runs one worker op (`start`, `invoke`, ...) on the instance's thread; past the timeout the instance is gone. */
export function callWorkerOp<O extends WorkerOpName>(slot: InstanceSlot, op: O, payload: WorkerOps[O]['payload'], opts: RunOptions): Promise<WorkerOps[O]['result']> {
  return slot.call(op, payload, opts);
}
