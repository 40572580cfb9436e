import type { NodeContext } from '../node-context.js';
import { recoverWorkers, type RecoveryReport } from './recover-workers.js';

/** Runs `recoverWorkers` once per node (WarrenNode.open does, before anything serves; later calls get that run). */
export function ensureWorkersRecovered(ctx: NodeContext): Promise<RecoveryReport> {
  ctx.recovery ??= recoverWorkers(ctx);
  return ctx.recovery;
}
