import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import pino, { type Logger } from 'pino';
import { dataLayout, resolveDataDir } from '../config.js';
import { cleanStaging } from './clean-staging.js';
import { checkNativeAddons } from '../native/check-native-addons.js';
import { openEmbeddedPorts, type Ports } from '../ports/open-ports.js';
import { removeLegacyIndex } from '../ports/embedded/disk-blobs.js';
import { GuestPool } from '../runtime/guest-pool.js';
import { ComponentVersionCache } from './components/version-cache.js';
import { ModuleCache } from '../precompile/module-cache.js';
import { engineId } from '../precompile/engine-id.js';
import { TokenService } from './tokens/index.js';
import type { ClusterMember } from './cluster/cluster-member.js';
import type { ClusterOptions } from './cluster/cluster-options.js';
import type { NodeContext } from './node-context.js';
import { WarrenMetrics } from './warren-metrics.js';
import { startGcTimer } from './gc/start-gc-timer.js';
import { pauseLiveWorkers } from './instances/pause-live-workers.js';
import { ensureWorkersRecovered } from './workers/ensure-workers-recovered.js';
import { startIdleEviction } from './instances/evict-idle-workers.js';
import { resolveZipLimits, type ZipLimits } from '../manifest/zip-limits.js';
import { DataDirLock } from './data-dir-lock.js';
import { LiveWorkers } from './instances/live-workers.js';
import { LiveAdmission } from './instances/admit-live-instance.js';

export interface WarrenNodeOptions {
  dataDir?: string;
  nodeId?: string;
  /** Cluster mode: NATS server URLs; absent = embedded ports. */
  nats?: string[];
  logger?: Logger;
  jobThreads?: number;
  /** Threads hosting every live worker instance (with the deadline addon; GuestPool's guestThreads). */
  guestThreads?: number;
  /** Jobs first run on the API thread for at most this long (GuestPool); 0 = always on job threads. */
  inlineBudgetMs?: number;
  /** GuestPool's backstop grace past a job's deadline (default 1 s). */
  backstopGraceMs?: number;
  maxOutputBytes?: number;
  moduleCacheBytes?: number;
  /** Run GC in the background this often; absent = only on demand. */
  gcIntervalMs?: number;
  /** Cluster mode only: heartbeat, failover and node cache settings (defaults in cluster/cluster-options.ts). */
  cluster?: Partial<ClusterOptions>;
  /** Pause workers whose instance has been idle longer than this (they resume on their next call). */
  idleEvictMs?: number;
  /** Calls one worker may have queued or running; past it a call is refused (503 E_BUSY). Default: live-workers' DEFAULT_MAX_QUEUED_CALLS. */
  maxQueuedCalls?: number;
  /** Pause the least recently used workers past this many live instances. */
  maxLiveWorkers?: number;
  /** Pause the least recently used workers while live instances' linear memory sums past this. */
  liveMemoryBudgetBytes?: number;
  /** Limits on a pushed component's files zip; defaults in manifest/zip-limits.ts. */
  zipLimits?: Partial<ZipLimits>;
  /** Host fds all guests of the process may hold together (runtime/guest-fd-budget.ts); default from RLIMIT_NOFILE. */
  guestFds?: number;
}

/**
 * One Warren node: its ports (embedded or NATS), guest threads, caches and services' context.
 * The API server and `--local` CLI runs both sit on top of one of these.
 */
export class WarrenNode {
  private constructor(
    readonly ctx: NodeContext,
    readonly tokens: TokenService,
    /** This node's membership in a NATS cluster; null when embedded. */
    readonly cluster: ClusterMember | null = null,
  ) {}

  static async open(opts: WarrenNodeOptions = {}): Promise<WarrenNode> {
    // One process per data dir: two nodes on it would interleave calls of one worker.
    const root = resolveDataDir(opts.dataDir);
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const lock = DataDirLock.acquire(root);
    try {
      const node = await WarrenNode.openLocked(opts);
      node.lock = lock;
      return node;
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  private static async openLocked(opts: WarrenNodeOptions): Promise<WarrenNode> {
    const zipLimits = resolveZipLimits(opts.zipLimits);
    const dataDir = resolveDataDir(opts.dataDir);
    const layout = dataLayout(dataDir);
    mkdirSync(layout.root, { recursive: true, mode: 0o700 });
    mkdirSync(layout.workers, { recursive: true });
    await cleanStaging(layout);
    await removeLegacyIndex(layout.store);
    const logger = opts.logger ?? pino({ level: process.env.WARREN_LOG ?? 'warn' });
    checkNativeAddons(logger);
    const nodeId = opts.nodeId ?? persistentNodeId(layout.root);
    const ports: Ports = opts.nats?.length
      ? await (await import('../ports/nats/open-nats-ports.js')).openNatsPorts({ servers: opts.nats, dataDir, nodeId })
      : openEmbeddedPorts(dataDir);
    const ctx: NodeContext = {
      nodeId,
      layout,
      ports,
      pool: new GuestPool({ jobThreads: opts.jobThreads, guestThreads: opts.guestThreads, inlineBudgetMs: opts.inlineBudgetMs, guestFds: opts.guestFds, backstopGraceMs: opts.backstopGraceMs }),
      moduleCache: new ModuleCache(opts.moduleCacheBytes ?? 512 * 1024 * 1024),
      versions: new ComponentVersionCache(ports.registry),
      engineId: engineId(),
      metrics: new WarrenMetrics(),
      logger,
      maxOutputBytes: opts.maxOutputBytes ?? 64 * 1024 * 1024,
      zipLimits,
      live: new LiveWorkers(),
      linkedModules: new Map(),
      exportSignatures: new Map(),
      recovery: null,
      eviction: { policy: null, running: null },
      admission: new LiveAdmission(),
    };
    ctx.metrics.observeJobLanes(() => ctx.pool.lanes);
    if (opts.maxQueuedCalls !== undefined) ctx.live.maxQueuedCalls = opts.maxQueuedCalls;
    try {
      await ctx.versions.start();
    } catch (err) {
      await ctx.pool.close();
      await ports.close();
      throw err;
    }
    let cluster: ClusterMember | null = null;
    if (opts.nats?.length) {
      try {
        // One signing key for the cluster, written into server.key before the token service loads it.
        const { adoptClusterServerKey } = await import('./cluster/shared-server-key.js');
        await adoptClusterServerKey(ports.registry, layout.keyFile, logger);
        const { ClusterMember } = await import('./cluster/cluster-member.js');
        cluster = new ClusterMember(ctx, opts.cluster);
      } catch (err) {
        await ctx.pool.close();
        await ports.close();
        throw err;
      }
    }
    const tokens = await TokenService.open({ dataDir, registry: ports.registry });
    const node = new WarrenNode(ctx, tokens, cluster);
    node.onClose.push(() => ctx.versions.stop());
    if (opts.gcIntervalMs) node.onClose.push(startGcTimer(ctx, opts.gcIntervalMs));
    if (opts.idleEvictMs !== undefined || opts.maxLiveWorkers !== undefined || opts.liveMemoryBudgetBytes !== undefined) {
      const { idleEvictMs, maxLiveWorkers, liveMemoryBudgetBytes } = opts;
      node.onClose.push(startIdleEviction(ctx, { idleEvictMs, maxLiveWorkers, liveMemoryBudgetBytes }));
    }
    // Before anything serves: bring worker directories and records back in line after a crash.
    try {
      await ensureWorkersRecovered(ctx);
    } catch (err) {
      await node.close().catch(() => undefined);
      throw err;
    }
    return node;
  }

  /** Timers and watchers to stop when the node closes. */
  readonly onClose: (() => void)[] = [];

  async close(): Promise<void> {
    for (const stop of this.onClose.splice(0)) stop();
    // Live workers are paused, not dropped: a restart (or the next --local command) resumes them.
    await pauseLiveWorkers(this.ctx).catch((err: unknown) => this.ctx.logger.warn({ err }, 'pausing live workers at close failed'));
    await this.cluster?.close();
    await this.tokens.close();
    await this.ctx.pool.close();
    await this.ctx.ports.close();
    this.lock?.release();
  }

  private lock: DataDirLock | null = null;
}

/**
 * A node keeps its id across restarts (`<data>/node-id`), so the records naming it stay true:
 * an embedded node that restarts still holds its workers.
 */
function persistentNodeId(dataDir: string): string {
  const file = join(dataDir, 'node-id');
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[a-z0-9_-]{1,64}$/.test(id)) return id;
  } catch {
    // first start
  }
  const id = `${hostname().replace(/[^a-z0-9_-]/gi, '-').toLowerCase().slice(0, 40)}-${randomBytes(3).toString('hex')}`;
  writeFileSync(file, id + '\n', { flag: 'w' });
  return id;
}
