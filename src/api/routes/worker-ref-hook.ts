import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WarrenNode } from '../../services/warren-node.js';
import { isWorkerId, resolveWorkerRef } from '../../services/workers/resolve-worker-ref.js';
import { principalNamespaces } from '../auth/index.js';

/**
 * Every `/v1/workers/:id…` route takes a worker's id, `namespace/name` (URL-encoded:
 * `sh.warren%2Fc1`) or a bare name when the token has one namespace, as Golem does. The ref is
 * turned into the id before validation, so the routes, the cluster's routing (a preHandler) and
 * the services all see the id. Runs after auth (onRequest), which it needs for the namespaces.
 */
export function resolveWorkerRefs(app: FastifyInstance, node: WarrenNode): void {
  app.addHook('preValidation', async (request: FastifyRequest) => {
    const params = request.params as { id?: string } | undefined;
    if (!params?.id || isWorkerId(params.id)) return;
    params.id = await resolveWorkerRef(node.ctx, params.id, principalNamespaces(request));
  });
}
