import type { NodeContext } from '../node-context.js';
import { recoverWorkers, type RecoveryReport } from './recover-workers.js';

const recovered = new WeakMap<NodeContext, Promise<RecoveryReport>>();

/** Runs `recoverWorkers` once per node, whoever asks first (node start, or the worker API). */
export function ensureWorkersRecovered(ctx: NodeContext): Promise<RecoveryReport> {
  let done = recovered.get(ctx);
  if (!done) {
    done = recoverWorkers(ctx);
    recovered.set(ctx, done);
  }
  return done;
}
