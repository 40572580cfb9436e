import { WarrenError } from '../../errors.js';
import { callWithTimeout, unwrapReply, type RunOptions } from '../../runtime/guest-pool.js';
import type { GuestThread } from '../../runtime/guest-thread.js';
import type { WorkerRequest } from '../../runtime/thread-protocol.js';

export interface WorkerOpOptions extends RunOptions {
  /** Buffers of the payload to move to the thread instead of copying (a restore's pages). */
  transfer?: ArrayBuffer[];
}

/** Runs one worker op (`start`, `invoke`, ...) on a worker's thread; past the timeout the thread dies. */
export async function callWorkerOp(thread: GuestThread, op: string, payload: object, opts: WorkerOpOptions): Promise<Record<string, unknown>> {
  const request: Omit<WorkerRequest, 'id'> = { type: 'worker', op, payload: payload as Record<string, unknown> };
  if (!opts.transfer?.length) return unwrapReply(await callWithTimeout(thread, request, opts));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new WarrenError('E_TIMEOUT', `worker op ${op} ran past its ${opts.timeoutMs} ms timeout and was stopped`, { timeoutMs: opts.timeoutMs });
      void thread.terminate(err);
      reject(err);
    }, opts.timeoutMs);
  });
  try {
    return unwrapReply(await Promise.race([thread.call(request, () => undefined, opts.transfer), timeout]));
  } finally {
    clearTimeout(timer);
  }
}
