import type { NodeContext } from '../node-context.js';
import { collectGarbage } from './collect-garbage.js';

/**
 * Runs GC every `intervalMs` in the background (the timer does not keep the process alive).
 * Runs never overlap; a failed run is logged and the next one tries again.
 */
export function startGcTimer(ctx: NodeContext, intervalMs: number): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    collectGarbage({ blobs: ctx.ports.blobs, registry: ctx.ports.registry, engineId: ctx.engineId })
      .then((res) => {
        ctx.metrics.gcSweptBlobs.inc(res.swept.length);
        ctx.logger.info({ swept: res.swept.length, sweptBytes: res.sweptBytes, records: res.sweptRecords.length }, 'gc run');
      })
      .catch((err) => ctx.logger.error({ err }, 'gc run failed'))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
