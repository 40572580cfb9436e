import type { FastifyInstance } from 'fastify';
import type { SchemaTypes } from '../schema-types.js';
import { WarrenError } from '../../errors.js';
import type { WarrenNode } from '../../services/warren-node.js';
import { errorResponses } from './schemas.js';
import { binaryContent } from '../openapi-transform.js';

const integrityParam = {
  type: 'object',
  required: ['integrity'],
  properties: { integrity: { type: 'string', pattern: '^sha256-[A-Za-z0-9+/]{43}=$' } },
} as const;

/**
 * Blobs by integrity: what node caches and shared readers read. Not project tokens: a digest
 * names no namespace, so one would read any namespace's modules, files and snapshots.
 */
export async function blobRoutes(fastify: FastifyInstance, { node }: { node: WarrenNode }): Promise<void> {
  const app = fastify.withTypeProvider<SchemaTypes>();
  const blobs = node.ctx.ports.blobs;
  app.get(
    '/v1/blobs/:integrity',
    {
      config: { role: 'store-reader' },
      schema: {
        summary: 'Blob bytes by SRI integrity',
        params: integrityParam,
        produces: ['application/octet-stream'],
        response: errorResponses,
        documentedResponses: { 200: { description: 'the blob', content: binaryContent('application/octet-stream') } },
      },
    },
    async (request, reply) => {
      const { integrity } = request.params;
      const info = await blobs.info(integrity);
      if (!info) throw new WarrenError('E_NOT_FOUND', `blob ${integrity} not found`, { integrity });
      return reply.header('content-type', 'application/octet-stream').header('content-length', info.size).header('x-warren-integrity', integrity).send(blobs.stream(integrity));
    },
  );
  app.head(
    '/v1/blobs/:integrity',
    { config: { role: 'store-reader' }, schema: { summary: 'Does the store hold this blob', params: integrityParam } },
    async (request, reply) => {
      const { integrity } = request.params;
      const info = await blobs.info(integrity);
      if (!info) return reply.status(404).send();
      return reply.header('content-length', info.size).status(200).send();
    },
  );
}
