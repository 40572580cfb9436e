import type { NodeContext } from '../node-context.js';
import { claimOrphanedWorkers, type ClaimPassResult } from './claim-orphaned-workers.js';
import type { ClusterClock } from './cluster-clock.js';
import type { NodeHeartbeat } from './node-heartbeat.js';
import type { NodeLiveness } from './node-liveness.js';
import { releaseMovedWorkers } from './release-moved-workers.js';

export interface FailoverMonitorOptions {
  everyMs: number;
  deadAfterMs: number;
  prefetchConcurrency: number;
  liveness: NodeLiveness;
  clock: ClusterClock;
}

/**
 * Watches the `node/` heartbeats every `everyMs` and claims the workers of dead nodes. A node
 * only judges others once its own heartbeats have been written without a gap for `deadAfterMs`:
 * after its own outage (NATS unreachable, the process stalled) every other heartbeat looks old
 * to it for a while, and claiming then would move workers off healthy nodes.
 */
export class FailoverMonitor {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private readonly orphanSince = new Map<string, number>();
  readonly adopting = new Set<string>();
  /** The last pass's result (tests and logs read it). */
  lastPass: ClaimPassResult | null = null;

  constructor(
    private readonly ctx: NodeContext,
    private readonly heartbeat: NodeHeartbeat,
    private readonly opts: FailoverMonitorOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.passOnce(), this.opts.everyMs);
    this.timer.unref();
  }

  /** One pass now, unless one is running (then that one's end). */
  passOnce(): Promise<unknown> {
    this.running ??= this.pass()
      .catch((err: unknown) => this.ctx.logger.warn({ err }, 'failover monitor pass failed'))
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private async pass(): Promise<void> {
    const hb = this.heartbeat;
    const now = this.opts.clock.monotonic();
    const healthy = hb.healthySince > 0 && now - hb.healthySince >= this.opts.deadAfterMs && now - hb.lastOkAt <= this.opts.deadAfterMs / 2;
    if (healthy) {
      this.lastPass = await claimOrphanedWorkers(this.ctx, {
        deadAfterMs: this.opts.deadAfterMs,
        prefetchConcurrency: this.opts.prefetchConcurrency,
        liveness: this.opts.liveness,
        clock: this.opts.clock,
        orphanSince: this.orphanSince,
        adopting: this.adopting,
      });
    }
    await releaseMovedWorkers(this.ctx, this.adopting);
  }
}
