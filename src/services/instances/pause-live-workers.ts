import type { NodeContext } from '../node-context.js';
import { pauseWorker } from './pause-worker.js';

/**
 * Node shutdown: pauses every live worker (after its queued calls), so a restart, or the next
 * `warren --local` command, resumes each where it was. A worker whose pause fails is stopped;
 * its next call goes back to its last snapshot.
 */
export async function pauseLiveWorkers(ctx: NodeContext): Promise<{ paused: string[]; failed: string[] }> {
  const live = ctx.live;
  const ids = live.entries().map(([id]) => id);
  const paused: string[] = [];
  const failed: string[] = [];
  await Promise.all(
    ids.map(async (id) => {
      try {
        await pauseWorker(ctx, id);
        paused.push(id);
      } catch (err) {
        failed.push(id);
        ctx.logger.warn({ worker: id, err }, 'pause at shutdown failed');
      }
    }),
  );
  await live.stopAll();
  return { paused, failed };
}
