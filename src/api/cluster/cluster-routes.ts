import type { FastifyInstance } from 'fastify';
import type { WarrenNode } from '../../services/warren-node.js';
import { errorResponses } from '../routes/schemas.js';

const nodeSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    url: { type: 'string' },
    startedAt: { type: 'string' },
    heartbeatAt: { type: 'string' },
    heartbeatAgeMs: { type: 'number' },
    alive: { type: 'boolean' },
    liveWorkers: { type: 'integer' },
    jobsRunning: { type: 'integer' },
    memory: { type: 'number' },
    cacheBytes: { type: 'number', description: "the local blob cache's size at the node's last eviction pass" },
    cacheBudgetBytes: { type: 'number' },
  },
} as const;

/** `GET /v1/cluster/nodes`: every node that sent a heartbeat, alive or dead. Embedded: no nodes. */
export async function clusterRoutes(app: FastifyInstance, { node }: { node: WarrenNode }): Promise<void> {
  app.get(
    '/v1/cluster/nodes',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Cluster members and their last heartbeat (alive = heartbeat younger than the dead-after time)',
        response: {
          200: {
            type: 'object',
            properties: {
              mode: { type: 'string', enum: ['cluster', 'embedded'] },
              self: { type: 'string' },
              deadAfterMs: { type: 'number' },
              nodes: { type: 'array', items: nodeSchema },
            },
          },
          ...errorResponses,
        },
      },
    },
    async () => {
      const cluster = node.cluster;
      if (!cluster) return { mode: 'embedded', self: node.ctx.nodeId, nodes: [] };
      return { mode: 'cluster', self: node.ctx.nodeId, deadAfterMs: cluster.options.deadAfterMs, nodes: await cluster.nodes() };
    },
  );
}
