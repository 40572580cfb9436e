import type { FastifyInstance } from 'fastify';
import type { WarrenNode } from '../../services/warren-node.js';

export async function healthRoutes(app: FastifyInstance, { node }: { node: WarrenNode }): Promise<void> {
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
  app.get('/metrics', { config: { role: 'public' }, schema: { summary: 'Prometheus metrics', produces: ['text/plain'] } }, async (_req, reply) => {
    const registry = node.ctx.metrics.registry;
    void reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}
