import type { FastifyInstance } from 'fastify';
import type { SchemaTypes } from '../schema-types.js';
import type { WarrenNode } from '../../services/warren-node.js';
import { getComponentVersion } from '../../services/components/component-keys.js';
import { loadFileTree } from '../../services/workers/load-file-tree.js';
import { authorizeNamespace } from '../auth/index.js';
import { errorResponses, fqVersionParams } from './schemas.js';

/**
 * `GET /v1/components/{fq}/versions/{v}/files`: a version's initial files (path, mode, size),
 * checked per namespace like the version itself. The tree blob is also readable by digest, but
 * only by roles not scoped to namespaces (store-reader); this is the console's file tree.
 */
export async function componentFileRoutes(fastify: FastifyInstance, { node }: { node: WarrenNode }): Promise<void> {
  const app = fastify.withTypeProvider<SchemaTypes>();
  app.get(
    '/v1/components/:fq/versions/:version/files',
    {
      config: { role: 'shared-reader' },
      schema: {
        summary: "A component version's initial files: path, read-only or read-write, size",
        params: fqVersionParams,
        response: {
          200: {
            type: 'object',
            properties: {
              entries: {
                type: 'array',
                items: { type: 'object', properties: { path: { type: 'string' }, mode: { type: 'string', enum: ['ro', 'rw'] }, size: { type: 'number' } } },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { fq, version } = request.params;
      authorizeNamespace(request, fq.slice(0, fq.lastIndexOf('.')), { hideAs404: true });
      const record = await getComponentVersion(node.ctx.ports.registry, fq, version);
      const tree = await loadFileTree(node.ctx.ports.blobs, record.fileTree);
      return { entries: tree.entries.map((e) => ({ path: e.path, mode: e.mode, size: e.size })) };
    },
  );
}
