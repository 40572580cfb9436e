import type { FastifyInstance } from 'fastify';
import type { SchemaTypes } from '../schema-types.js';
import type { WarrenNode } from '../../services/warren-node.js';
import { collectGarbage } from '../../services/gc/collect-garbage.js';
import { verifyStore } from '../../services/gc/verify-store.js';
import { listArtifactMaps } from '../../precompile/artifact-map.js';
import { getComponentVersion } from '../../services/components/component-keys.js';
import { loadLinkedModules } from '../../services/components/load-linked-modules.js';
import { REGISTRY_PREFIX } from '../../records.js';
import { errorResponses } from './schemas.js';

export async function adminRoutes(fastify: FastifyInstance, { node, dev }: { node: WarrenNode; dev: boolean }): Promise<void> {
  // Handlers read params, query and body as their schemas type them (no casts).
  const app = fastify.withTypeProvider<SchemaTypes>();
  const ctx = node.ctx;
  app.post(
    '/v1/admin/gc',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Collect garbage: blobs and records no root reaches (grace period protects recent writes)',
        body: { type: 'object', properties: { dryRun: { type: 'boolean' }, graceMs: { type: 'integer', minimum: 0 } }, additionalProperties: false },
        response: {
          200: {
            type: 'object',
            properties: {
              kept: { type: 'integer' },
              swept: { type: 'array', items: { type: 'object', properties: { integrity: { type: 'string' }, size: { type: 'number' } } } },
              sweptBytes: { type: 'number' },
              sweptRecords: { type: 'array', items: { type: 'string' } },
              missing: { type: 'array', items: { type: 'string' } },
              dryRun: { type: 'boolean' },
            },
            additionalProperties: true,
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const body = request.body ?? {};
      const res = await collectGarbage({ blobs: ctx.ports.blobs, registry: ctx.ports.registry, engineId: ctx.engineId, dryRun: Boolean(body.dryRun), graceMs: body.graceMs });
      if (!res.dryRun) ctx.metrics.gcSweptBlobs.inc(res.swept.length);
      return res;
    },
  );
  app.post(
    '/v1/admin/verify',
    {
      config: { role: 'admin' },
      schema: {
        summary: "Verify every record's blobs and every blob's integrity",
        response: {
          200: {
            type: 'object',
            properties: {
              records: { type: 'integer' },
              blobsChecked: { type: 'integer' },
              missing: { type: 'array', items: { type: 'object', properties: { key: { type: 'string' }, integrity: { type: 'string' } } } },
              corrupt: { type: 'array', items: { type: 'string' } },
              badPages: { type: 'array', items: { type: 'object', properties: { key: { type: 'string' }, pack: { type: 'string' }, page: { type: 'integer' } } } },
              pagesChecked: { type: 'integer' },
            },
            additionalProperties: true,
          },
          ...errorResponses,
        },
      },
    },
    async () => verifyStore({ blobs: ctx.ports.blobs, registry: ctx.ports.registry }),
  );
  const artifactMapSchema = {
    type: 'object',
    properties: { engineId: { type: 'string' }, fq: { type: 'string' }, version: { type: 'string' }, artifacts: { type: 'integer' }, bytes: { type: 'number' }, current: { type: 'boolean' } },
  } as const;
  const artifactsSchema = { summary: 'Artifact maps (precompile DAGs) with sizes', response: { 200: { type: 'object', properties: { maps: { type: 'array', items: artifactMapSchema } } }, ...errorResponses } };
  app.get('/v1/admin/artifacts', { config: { role: 'admin' }, schema: artifactsSchema }, async () => {
    const maps = await listArtifactMaps(ctx.ports.registry);
    return {
      maps: maps.map((m) => ({
        engineId: m.engineId,
        fq: m.fq,
        version: m.version,
        artifacts: m.artifacts.length,
        bytes: m.artifacts.reduce((n, a) => n + a.size, 0),
        current: m.engineId === ctx.engineId,
      })),
    };
  });
  app.post(
    '/v1/admin/precompile',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Precompile a component version ahead of its first use',
        body: { type: 'object', required: ['fq'], properties: { fq: { type: 'string' }, version: { type: 'string' } } },
        response: {
          200: { type: 'object', properties: { fq: { type: 'string' }, version: { type: 'string' }, engineId: { type: 'string' }, artifacts: { type: 'string', enum: ['ready'] } } },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { fq, version } = request.body;
      const record = await getComponentVersion(ctx.ports.registry, fq, version);
      await loadLinkedModules(ctx, record);
      return { fq: record.fq, version: record.version, engineId: ctx.engineId, artifacts: 'ready' };
    },
  );
  if (dev) {
    const resetSchema = {
      summary: 'Dev only: delete every registry record (blobs go at the next GC)',
      response: { 200: { type: 'object', required: ['removed'], properties: { removed: { type: 'integer', description: 'records deleted' } } }, ...errorResponses },
    } as const;
    app.post('/v1/dev/reset', { config: { role: 'dev' }, schema: resetSchema }, async () => {
      let removed = 0;
      for (const prefix of Object.values(REGISTRY_PREFIX)) {
        if (prefix === REGISTRY_PREFIX.token) continue;
        for (const e of await ctx.ports.registry.list(prefix)) {
          await ctx.ports.registry.delete(e.key);
          removed++;
        }
      }
      return { removed };
    });
  }
}
