import type { NodeContext } from '../node-context.js';
import { resolveClusterOptions, type ClusterOptions } from './cluster-options.js';
import { evictNodeCache } from './evict-node-cache.js';
import { FailoverMonitor } from './failover-monitor.js';
import { listClusterNodes } from './list-cluster-nodes.js';
import { NodeHeartbeat } from './node-heartbeat.js';
import { NodeLiveness } from './node-liveness.js';
import { nodeKey, validateNodeId, type NodeRecord, type NodeStatus } from './node-record.js';

/**
 * This node's part in a cluster: its heartbeat (`node/<id>`), the failover monitor, the node
 * cache's eviction timer and the count of jobs it runs. Created by WarrenNode in cluster mode;
 * `start` is called by the API once it can serve forwarded requests (a node is placeable from
 * its first heartbeat on).
 */
export class ClusterMember {
  readonly options: ClusterOptions;
  readonly heartbeat: NodeHeartbeat;
  readonly monitor: FailoverMonitor;
  /** What this node has seen of the others' heartbeats (one view for failover, placement and the API). */
  readonly liveness: NodeLiveness;
  private evictTimer: NodeJS.Timeout | null = null;
  private evicting: Promise<unknown> | null = null;
  private jobs = 0;
  /** The local cache's size as the last eviction pass measured it (it walks the cache anyway). */
  private cacheBytes: number | undefined;
  private started = false;

  constructor(
    private readonly ctx: NodeContext,
    options: Partial<ClusterOptions> = {},
  ) {
    validateNodeId(ctx.nodeId);
    this.options = resolveClusterOptions(options);
    this.liveness = new NodeLiveness(this.options.deadAfterMs, this.options.clock);
    this.heartbeat = new NodeHeartbeat(
      ctx.ports.registry,
      ctx.nodeId,
      this.options.heartbeatMs,
      () => ({
        liveWorkers: ctx.live.size,
        jobsRunning: this.jobs,
        ...(this.cacheBytes === undefined ? {} : { cacheBytes: this.cacheBytes }),
        cacheBudgetBytes: this.options.cacheBudgetBytes,
      }),
      ctx.logger,
      this.options.clock,
    );
    this.monitor = new FailoverMonitor(ctx, this.heartbeat, {
      everyMs: this.options.monitorMs,
      deadAfterMs: this.options.deadAfterMs,
      prefetchConcurrency: this.options.prefetchConcurrency,
      liveness: this.liveness,
      clock: this.options.clock,
    });
    if (this.options.advertiseUrl) this.heartbeat.setUrl(this.options.advertiseUrl);
  }

  get nodeId(): string {
    return this.ctx.nodeId;
  }

  get jobsRunning(): number {
    return this.jobs;
  }

  /** Counts a job as running here until the returned function is called (once is enough). */
  beginJob(): () => void {
    this.jobs++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.jobs--;
    };
  }

  /** The HTTP address announced in heartbeats (unless an advertise URL was configured). */
  setUrl(url: string): void {
    if (this.options.advertiseUrl) return;
    this.heartbeat.setUrl(url);
    if (this.started) void this.heartbeat.beatOnce();
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.heartbeat.start();
    this.monitor.start();
    this.evictTimer = setInterval(() => void this.evictOnce(), this.options.evictEveryMs);
    this.evictTimer.unref();
    void this.evictOnce(); // a first pass now: the heartbeats report the cache's size from the start
  }

  evictOnce(): Promise<unknown> {
    this.evicting ??= evictNodeCache(this.ctx, this.options.cacheBudgetBytes)
      .then((result) => {
        if (result) this.cacheBytes = result.localBytes;
        return result;
      })
      .catch((err: unknown) => this.ctx.logger.warn({ err }, 'node cache eviction failed'))
      .finally(() => {
        this.evicting = null;
      });
    return this.evicting;
  }

  nodes(): Promise<NodeStatus[]> {
    return listClusterNodes(this.ctx.ports.registry, this.liveness);
  }

  async node(id: string): Promise<NodeStatus | null> {
    const entry = await this.ctx.ports.registry.get<NodeRecord>(nodeKey(id));
    return entry ? this.liveness.statusOf(entry) : null;
  }

  async close(): Promise<void> {
    if (this.evictTimer) clearInterval(this.evictTimer);
    await this.monitor.stop();
    await this.heartbeat.stop();
    await this.evicting;
  }
}
