import type { NodeContext } from '../node-context.js';
import { pauseWorker } from './pause-worker.js';

export interface EvictionPolicy {
  /** Pause workers whose instance ran no op for longer than this; absent = never for idleness. */
  idleEvictMs?: number;
  /** Pause the least recently used workers past this many live instances. */
  maxLiveWorkers?: number;
  /** Pause the least recently used workers while live instances' memory sums past this. */
  liveMemoryBudgetBytes?: number;
}

export interface EvictionReport {
  paused: string[];
  failed: { worker: string; message: string }[];
}

/**
 * Pauses what the policy says should not stay live: idle ones, then the least recently used
 * while over the count or memory budget. Each pause waits in its worker's queue and skips a
 * worker that ran since it was picked. One pass at a time per node.
 */
export function evictIdleWorkers(ctx: NodeContext, policy: EvictionPolicy = ctx.eviction.policy ?? {}, now = Date.now()): Promise<EvictionReport> {
  const inFlight = ctx.eviction.running;
  if (inFlight) return inFlight;
  const pass = evictPass(ctx, policy, now).finally(() => {
    ctx.eviction.running = null;
  });
  ctx.eviction.running = pass;
  return pass;
}

async function evictPass(ctx: NodeContext, policy: EvictionPolicy, now: number): Promise<EvictionReport> {
  const report: EvictionReport = { paused: [], failed: [] };
  const entries = ctx.live
    .entries()
    .sort((a, b) => a[1].lastUsed - b[1].lastUsed);
  const picked = new Map<string, number>();
  if (policy.idleEvictMs !== undefined) {
    for (const [id, inst] of entries) if (now - inst.lastUsed > policy.idleEvictMs) picked.set(id, inst.lastUsed);
  }
  let count = entries.length - picked.size;
  let memory = entries.filter(([id]) => !picked.has(id)).reduce((n, [, inst]) => n + inst.memoryBytes, 0);
  const over = () => (policy.maxLiveWorkers !== undefined && count > policy.maxLiveWorkers) || (policy.liveMemoryBudgetBytes !== undefined && memory > policy.liveMemoryBudgetBytes);
  // The most recently used one is never evicted for a budget: it is the one being called.
  for (const [id, inst] of entries.slice(0, -1)) {
    if (!over()) break;
    if (picked.has(id)) continue;
    picked.set(id, inst.lastUsed);
    count--;
    memory -= inst.memoryBytes;
  }
  for (const [id, lastUsed] of picked) {
    try {
      const r = await pauseWorker(ctx, id, { ifIdleSince: lastUsed });
      if (r.changed) report.paused.push(id);
    } catch (err) {
      report.failed.push({ worker: id, message: err instanceof Error ? err.message : String(err) });
    }
  }
  if (report.paused.length + report.failed.length > 0) ctx.logger.info(report, 'evicted live workers');
  return report;
}

/** Sets the node's policy and checks it every `intervalMs` (default: a quarter of the idle time, 1-60 s); returns the stop. */
export function startIdleEviction(ctx: NodeContext, policy: EvictionPolicy, intervalMs?: number): () => void {
  ctx.eviction.policy = policy;
  const every = intervalMs ?? Math.min(60_000, Math.max(1000, Math.floor((policy.idleEvictMs ?? 60_000) / 4)));
  const timer = setInterval(() => {
    void evictIdleWorkers(ctx).catch((err: unknown) => ctx.logger.warn({ err }, 'idle eviction failed'));
  }, every);
  timer.unref();
  return () => {
    clearInterval(timer);
    ctx.eviction.policy = null;
  };
}

/** After an instance starts: pause the least recently used others if a budget is now exceeded. */
export function enforceLiveBudget(ctx: NodeContext): void {
  const policy = ctx.eviction.policy;
  if (!policy || (policy.maxLiveWorkers === undefined && policy.liveMemoryBudgetBytes === undefined)) return;
  void evictIdleWorkers(ctx, { maxLiveWorkers: policy.maxLiveWorkers, liveMemoryBudgetBytes: policy.liveMemoryBudgetBytes }).catch((err: unknown) =>
    ctx.logger.warn({ err }, 'live budget eviction failed'),
  );
}
