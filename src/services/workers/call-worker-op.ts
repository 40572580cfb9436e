import { callWithTimeout, unwrapReply, type RunOptions } from '../../runtime/guest-pool.js';
import type { GuestThread } from '../../runtime/guest-thread.js';
import type { WorkerRequest } from '../../runtime/thread-protocol.js';

/** Runs one worker op (`start`, `invoke`, ...) on a worker's thread; past the timeout the thread dies. */
export async function callWorkerOp(thread: GuestThread, op: string, payload: object, opts: RunOptions): Promise<Record<string, unknown>> {
  const request: Omit<WorkerRequest, 'id'> = { type: 'worker', op, payload: payload as Record<string, unknown> };
  return unwrapReply(await callWithTimeout(thread, request, opts));
}
