import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WarrenNode } from '../../services/warren-node.js';
import { dispatchJob } from './dispatch-job.js';
import { isForwarded } from './forwarded-http.js';
import { placeWorkerCreate, prefetchHere } from './place-worker-create.js';
import { routeWorkerRequest } from './route-worker-request.js';
import { serveForwardedHttp } from './serve-forwarded-http.js';

/**
 * Cluster mode: any node's API serves any request. Call on the root instance after
 * registerAuth and before the routes (hooks must not be encapsulated). A `preHandler` (after
 * auth, body parsing and validation) runs each request where its route's `config.placement`
 * says (route-placement.ts):
 *  - `worker` (`/v1/workers/:id/…`, `DELETE /v1/workers/:id`): where the worker's record says
 *    (routeWorkerRequest). `GET /v1/workers/:id` and listings read the shared registry: served here.
 *  - `new-worker` (`POST /v1/workers`): on the least loaded live node (placeWorkerCreate).
 *  - `job` (`POST /v1/jobs/:fq/run`): here unless busy, else the `warren.jobs` queue group (dispatchJob).
 * Requests replayed from another node (isForwarded) are served here, with the node cache
 * filled first for creates. The node starts heartbeating (becomes placeable) once the app is
 * ready and serves forwarded requests; its URL is announced once it listens.
 */
export async function registerClusterRouting(app: FastifyInstance, { node }: { node: WarrenNode }): Promise<void> {
  const member = node.cluster;
  if (!member) return;
  let stopServing: (() => void) | null = null;

  app.addHook('onReady', async () => {
    stopServing = await serveForwardedHttp(app, node);
    await member.start();
  });
  app.addHook('onListen', async () => {
    const address = app.server.address();
    if (address && typeof address === 'object') {
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      member.setUrl(`http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`);
    }
  });
  app.addHook('preClose', async () => {
    stopServing?.();
    stopServing = null;
  });

  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.is404) return;
    const placement = request.routeOptions.config.placement;
    if (!placement) return;
    const forwarded = isForwarded(request);
    if (placement === 'job') {
      const answered = forwarded ? undefined : await dispatchJob(node, request, reply);
      if (answered) return answered;
      countJob(reply, member.beginJob());
      return;
    }
    if (placement === 'new-worker') {
      return forwarded ? prefetchHere(node, request) : placeWorkerCreate(node, request, reply);
    }
    if (forwarded) return; // the target's replay checked that the worker is this node's
    const id = (request.params as { id?: string }).id;
    if (id) return routeWorkerRequest(node, request, reply, id);
  });
}

/** A job run here counts until its response is done (finished, failed or the client left). */
function countJob(reply: FastifyReply, release: () => void): void {
  reply.raw.once('finish', release);
  reply.raw.once('close', release);
}
