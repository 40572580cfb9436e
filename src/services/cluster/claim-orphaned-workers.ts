import type { WorkerRecord } from '../../records.js';
import { REGISTRY_PREFIX } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { adoptWorker, type AdoptOutcome } from './adopt-worker.js';
import type { ClusterClock } from './cluster-clock.js';
import { listClusterNodes } from './list-cluster-nodes.js';
import type { NodeLiveness } from './node-liveness.js';
import { rendezvousNode } from './rendezvous-node.js';

export interface ClaimPassOptions {
  deadAfterMs: number;
  prefetchConcurrency: number;
  liveness: NodeLiveness;
  clock: ClusterClock;
  /** When (local monotonic time) each orphan was first seen (kept by the monitor between passes). */
  orphanSince: Map<string, number>;
  /** Workers being adopted by this node right now (another pass must not start on them). */
  adopting: Set<string>;
}

export interface ClaimPassResult {
  orphans: number;
  outcomes: { worker: string; from: string; outcome: AdoptOutcome | 'error'; error?: string }[];
}

/**
 * One pass of the failover monitor: every worker whose node is dead (this node has not seen its
 * heartbeat record change for `deadAfterMs`, or has seen it missing that long: see NodeLiveness)
 * is an orphan. The live node that rendezvous hashing picks for it claims it at once; any other
 * live node claims it only after it has stayed orphaned for another `deadAfterMs` (the chosen
 * node may have died too). Claims are compare-and-sets on the worker record, so exactly one node
 * wins each worker.
 */
export async function claimOrphanedWorkers(ctx: NodeContext, opts: ClaimPassOptions): Promise<ClaimPassResult> {
  const { registry } = ctx.ports;
  const now = opts.clock.monotonic();
  const nodes = await listClusterNodes(registry, opts.liveness);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const liveIds = nodes.filter((n) => n.alive).map((n) => n.id);
  if (!liveIds.includes(ctx.nodeId)) liveIds.push(ctx.nodeId);
  const result: ClaimPassResult = { orphans: 0, outcomes: [] };
  const seen = new Set<string>();
  for (const entry of await registry.list<WorkerRecord>(REGISTRY_PREFIX.worker)) {
    const w = entry.value;
    if (w.node === ctx.nodeId) continue;
    const node = byId.get(w.node);
    const dead = node ? !node.alive : opts.liveness.missingIsDead(w.node);
    if (!dead) continue;
    result.orphans++;
    seen.add(w.id);
    const since = opts.orphanSince.get(w.id) ?? now;
    opts.orphanSince.set(w.id, since);
    const chosen = rendezvousNode(w.id, liveIds);
    if (chosen !== ctx.nodeId && now - since < opts.deadAfterMs) continue;
    if (opts.adopting.has(w.id)) continue;
    opts.adopting.add(w.id);
    try {
      const outcome = await adoptWorker(ctx, entry, opts.prefetchConcurrency);
      result.outcomes.push({ worker: w.id, from: w.node, outcome });
      if (outcome !== 'lost') ctx.logger.warn({ worker: w.id, from: w.node, outcome }, 'claimed a worker of a dead node');
    } catch (err) {
      result.outcomes.push({ worker: w.id, from: w.node, outcome: 'error', error: err instanceof Error ? err.message : String(err) });
      ctx.logger.error({ err, worker: w.id, from: w.node }, 'claiming a worker of a dead node failed');
    } finally {
      opts.adopting.delete(w.id);
    }
  }
  for (const id of opts.orphanSince.keys()) if (!seen.has(id)) opts.orphanSince.delete(id);
  return result;
}
