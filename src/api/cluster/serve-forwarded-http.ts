import type { FastifyInstance } from 'fastify';
import { WarrenError } from '../../errors.js';
import type { BusPayload } from '../../ports/bus.js';
import type { WorkerRecord } from '../../records.js';
import type { WarrenNode } from '../../services/warren-node.js';
import { workerKey } from '../../services/workers/worker-keys.js';
import { FORWARDED_HEADER, JOBS_QUEUE, JOBS_SUBJECT, forwardSecret, nodeHttpSubject, replyHeaders, type ForwardedReply, type ForwardedRequest } from './forwarded-http.js';

/**
 * Serves this node's HTTP API over the bus: `warren.node.<id>.http` (requests routed to this
 * node: worker calls, creates placed here) and the `warren.jobs` queue group (job runs any
 * node may take). Each request is replayed with `app.inject`, so it passes the same auth
 * (the caller's bearer token travels with it), validation and handlers as a direct one.
 * Returns the function that stops serving.
 */
export async function serveForwardedHttp(app: FastifyInstance, node: WarrenNode): Promise<() => void> {
  const { bus, registry } = node.ctx.ports;
  const self = node.ctx.nodeId;
  const replay = async (payload: BusPayload): Promise<BusPayload> => {
    const req = payload as unknown as ForwardedRequest;
    if (typeof req.method !== 'string' || typeof req.url !== 'string' || !req.url.startsWith('/')) {
      throw new WarrenError('E_BAD_REQUEST', 'malformed forwarded request');
    }
    if (req.workerId) {
      // The record moved (claimed after a failover) while the request was on its way: the origin retries.
      const entry = await registry.get<WorkerRecord>(workerKey(req.workerId));
      if (entry && entry.value.status !== 'deleted' && entry.value.node !== self) {
        throw new WarrenError('E_UNAVAILABLE', `worker ${req.workerId} is on node ${entry.value.node}, not ${self}`, { worker: req.workerId, node: entry.value.node, moved: true });
      }
    }
    const res = await app.inject({
      method: req.method as 'GET',
      url: req.url,
      headers: { ...req.headers, [FORWARDED_HEADER]: forwardSecret, 'x-warren-origin': String(req.origin ?? '') },
      payload: Buffer.isBuffer(req.body) && req.body.length > 0 ? req.body : undefined,
    });
    const answer: ForwardedReply = { status: res.statusCode, servedBy: self, headers: replyHeaders(res.headers), body: res.rawPayload };
    return { ...answer };
  };
  const stops = [await bus.serve(nodeHttpSubject(self), replay), await bus.serve(JOBS_SUBJECT, replay, { queue: JOBS_QUEUE })];
  return () => {
    for (const stop of stops) stop();
  };
}
