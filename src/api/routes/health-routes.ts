import type { FastifyInstance } from 'fastify';
import type { WarrenNode } from '../../services/warren-node.js';

/**
 * `/healthz` is public. `/metrics` counts every namespace's jobs and calls, so it needs a token
 * of a role not scoped to namespaces (admin, shared-reader, node), unless the operator made it
 * public for a scraper without credentials (`serve --metrics-public`).
 */
export async function healthRoutes(app: FastifyInstance, { node, metricsPublic = false }: { node: WarrenNode; metricsPublic?: boolean }): Promise<void> {
  app.get(
    '/healthz',
    {
      config: { role: 'public' },
      schema: {
        summary: 'Liveness: the node answers',
        response: { 200: { type: 'object', properties: { status: { type: 'string' }, node: { type: 'string' }, engineId: { type: 'string' } } } },
      },
    },
    async () => ({ status: 'ok', node: node.ctx.nodeId, engineId: node.ctx.engineId }),
  );
  const metricsSchema = {
    summary: 'Prometheus metrics (a token of role admin, shared-reader or node, unless the node runs with --metrics-public)',
    produces: ['text/plain'],
    response: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } },
  };
  app.get('/metrics', { config: { role: metricsPublic ? 'public' : 'metrics' }, schema: metricsSchema }, async (_req, reply) => {
    const registry = node.ctx.metrics.registry;
    void reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}
