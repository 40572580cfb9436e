import type { FastifyReply, FastifyRequest } from 'fastify';
import { REGISTRY_PREFIX, type WorkerRecord } from '../../records.js';
import { prefetchComponent } from '../../services/cluster/prefetch-component.js';
import { getComponentVersion } from '../../services/components/component-keys.js';
import { pickPlacementNode, type PlacementCandidate } from '../../services/cluster/pick-placement-node.js';
import type { WarrenNode } from '../../services/warren-node.js';
import { bodyTooLarge, isRetryableForward } from './forward-errors.js';
import { nodeHttpSubject, requestBodyBytes, sendForwardedReply, toForwardedRequest } from './forwarded-http.js';

/**
 * `POST /v1/workers` in a cluster: the worker goes to the least loaded live node
 * (pickPlacementNode), so its files are placed on that node's disk. The create is forwarded
 * there and run by its own route; when the chosen node does not answer (it died since its last
 * heartbeat) the next one is tried, and this node is the last resort. Returns the reply when
 * forwarded, undefined to create here.
 */
export async function placeWorkerCreate(node: WarrenNode, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  const member = node.cluster!;
  const { registry, bus } = node.ctx.ports;
  const [nodes, workers] = await Promise.all([member.nodes(), registry.list<WorkerRecord>(REGISTRY_PREFIX.worker)]);
  const placed = new Map<string, number>();
  for (const { value: w } of workers) if (w.status !== 'deleted') placed.set(w.node, (placed.get(w.node) ?? 0) + 1);
  let candidates: PlacementCandidate[] = nodes.map((n) => ({ node: n, placedWorkers: placed.get(n.id) ?? 0 }));
  const body = requestBodyBytes(request);
  for (;;) {
    let target;
    try {
      target = pickPlacementNode(candidates);
    } catch {
      return prefetchHere(node, request); // nobody else is alive: place it here
    }
    if (target.id === node.ctx.nodeId) return prefetchHere(node, request);
    if (body.length > member.options.forwardBodyLimitBytes) throw bodyTooLarge(body.length, member.options.forwardBodyLimitBytes, target.id, target.url);
    try {
      const answer = await bus.request(nodeHttpSubject(target.id), { ...toForwardedRequest(request, node.ctx.nodeId, body) }, { timeoutMs: member.options.forwardTimeoutMs });
      return sendForwardedReply(reply, answer);
    } catch (err) {
      if (!isRetryableForward(err)) throw err;
      request.log.warn({ node: target.id }, 'placement target did not answer; trying the next node');
      candidates = candidates.filter((c) => c.node.id !== target.id);
    }
  }
}

/**
 * The node cache: every blob of the version is fetched into the local store before the route
 * places the worker's files (hardlinks from there). Errors are left to the route, which names
 * them properly (unknown component, forbidden namespace).
 */
export async function prefetchHere(node: WarrenNode, request: FastifyRequest): Promise<undefined> {
  const b = request.body as { component?: unknown; version?: unknown } | undefined;
  if (typeof b?.component !== 'string') return undefined;
  try {
    const record = await getComponentVersion(node.ctx.ports.registry, b.component, typeof b.version === 'string' ? b.version : undefined);
    await prefetchComponent(node.ctx, record, node.cluster!.options.prefetchConcurrency);
  } catch (err) {
    request.log.debug({ err }, 'prefetch before create failed; the create reports it');
  }
  return undefined;
}
