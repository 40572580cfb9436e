import type { NodeContext } from '../node-context.js';
import { recoverWorkers, type RecoveryReport } from './recover-workers.js';

/** Runs `recoverWorkers` once per node, whoever asks first (node start, or the worker API). */
export function ensureWorkersRecovered(ctx: NodeContext): Promise<RecoveryReport> {
  ctx.recovery ??= recoverWorkers(ctx);
  return ctx.recovery;
}
