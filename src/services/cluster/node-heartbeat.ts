import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { isWarrenError } from '../../errors.js';
import type { Registry } from '../../ports/registry.js';
import type { ClusterClock } from './cluster-clock.js';
import { nodeKey, type NodeRecord } from './node-record.js';

export interface HeartbeatLoad {
  liveWorkers: number;
  jobsRunning: number;
  cacheBytes?: number;
  cacheBudgetBytes?: number;
}

/**
 * Rewrites `node/<id>` every `intervalMs`. Remembers when a write last succeeded: a node that
 * could not reach the registry itself must not judge others dead by their stale heartbeats
 * (see FailoverMonitor).
 */
export class NodeHeartbeat {
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;
  private url = '';
  private readonly startedAt: string;
  /** Local monotonic time of the last successful write, and of the first one after a failed one. */
  lastOkAt = 0;
  healthySince = 0;

  constructor(
    private readonly registry: Registry,
    private readonly nodeId: string,
    private readonly intervalMs: number,
    private readonly load: () => HeartbeatLoad,
    private readonly logger: Logger,
    private readonly clock: ClusterClock,
  ) {
    this.startedAt = new Date(clock.wall()).toISOString();
  }

  setUrl(url: string): void {
    this.url = url;
  }

  /** Writes the first heartbeat (so the node is placeable once this resolves), then keeps beating. */
  async start(readyTimeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      try {
        await this.beat();
        break;
      } catch (err) {
        // A cluster that is still forming answers with timeouts for a while.
        if (!isWarrenError(err, 'E_UNAVAILABLE') || Date.now() > deadline) throw err;
        await sleep(250);
      }
    }
    this.timer = setInterval(() => void this.beatOnce(), this.intervalMs);
    this.timer.unref();
  }

  /** One write now (skipped when one is in flight). */
  beatOnce(): Promise<void> {
    this.beating ??= this.beat()
      .catch((err: unknown) => {
        this.healthySince = 0;
        this.logger.warn({ err }, 'cluster heartbeat failed');
      })
      .finally(() => {
        this.beating = null;
      });
    return this.beating;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.beating;
  }

  private async beat(): Promise<void> {
    const record: NodeRecord = {
      id: this.nodeId,
      url: this.url,
      startedAt: this.startedAt,
      heartbeatAt: new Date(this.clock.wall()).toISOString(),
      ...this.load(),
      memory: process.memoryUsage.rss(),
    };
    await this.registry.put(nodeKey(this.nodeId), record);
    const now = this.clock.monotonic();
    if (this.healthySince === 0) this.healthySince = now;
    this.lastOkAt = now;
  }
}
