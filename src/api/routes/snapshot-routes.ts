import type { FastifyInstance } from 'fastify';
import type { SchemaTypes } from '../schema-types.js';
import type { WarrenNode } from '../../services/warren-node.js';
import { commitWorker, pauseWorker, resumeWorker } from '../../services/instances/index.js';
import { forkWorker, listSnapshots } from '../../services/snapshots/index.js';
import { authorizeNamespace } from '../auth/index.js';
import { errorResponses } from './schemas.js';
import { authorizedWorker, workerIdParams, workerSchema } from './worker-access.js';

export const snapshotSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    worker: { type: 'string' },
    component: { type: 'string' },
    version: { type: 'string' },
    scope: { type: 'string', enum: ['full', 'data'] },
    kind: { type: 'string', enum: ['pause', 'commit'] },
    node: { type: 'string' },
    createdAt: { type: 'string' },
    memory: { type: ['string', 'null'] },
    state: { type: ['string', 'null'] },
    files: { type: ['string', 'null'] },
  },
} as const;

const statsSchema = {
  type: ['object', 'null'],
  properties: {
    pages: { type: 'number' },
    pagesWritten: { type: 'number' },
    pagesHashed: { type: 'number' },
    memoryBytesWritten: { type: 'number' },
    filesWritten: { type: 'number' },
    fileBytesWritten: { type: 'number' },
    durationMs: { type: 'number' },
  },
} as const;

const nullableSnapshot = { ...snapshotSchema, type: ['object', 'null'] } as const;

/** `/v1/workers/{id}/pause|resume|commit|fork` and `GET /v1/workers/{id}/snapshots`. */
export async function snapshotRoutes(fastify: FastifyInstance, { node }: { node: WarrenNode }): Promise<void> {
  const app = fastify.withTypeProvider<SchemaTypes>();
  const ctx = node.ctx;

  app.post(
    '/v1/workers/:id/pause',
    {
      config: { role: 'project', placement: 'worker' },
      schema: {
        summary: "Pause a worker: snapshot (manifest's on_pause scope) into this node's store, then free its instance",
        params: workerIdParams,
        response: {
          200: { type: 'object', properties: { worker: workerSchema, snapshot: nullableSnapshot, stats: statsSchema, changed: { type: 'boolean' } } },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      await authorizedWorker(node, request, id);
      return pauseWorker(ctx, id);
    },
  );

  app.post(
    '/v1/workers/:id/resume',
    {
      config: { role: 'project', placement: 'worker' },
      schema: {
        summary: 'Resume a worker from its latest snapshot (pause, else commit); a live worker is left as is',
        params: workerIdParams,
        response: {
          200: {
            type: 'object',
            properties: { worker: workerSchema, resumed: { type: 'boolean' }, how: { type: 'string' }, snapshot: { type: ['string', 'null'] } },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      await authorizedWorker(node, request, id);
      return resumeWorker(ctx, id);
    },
  );

  app.post(
    '/v1/workers/:id/commit',
    {
      config: { role: 'project', placement: 'worker' },
      schema: {
        summary: "Commit a worker: snapshot (manifest's on_commit scope) into the cluster store; immutable, forkable; the worker stays live",
        params: workerIdParams,
        response: { 200: { type: 'object', properties: { worker: workerSchema, snapshot: snapshotSchema, stats: statsSchema } }, ...errorResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      await authorizedWorker(node, request, id);
      return commitWorker(ctx, id);
    },
  );

  app.post(
    '/v1/workers/:id/fork',
    {
      config: { role: 'project', placement: 'worker' },
      schema: {
        summary: 'Create a new worker from a committed snapshot of this one (default: its last commit)',
        params: workerIdParams,
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string', maxLength: 63 }, snapshot: { type: 'string', minLength: 1, maxLength: 160 } },
        },
        response: { 201: { type: 'object', properties: { worker: workerSchema, snapshot: snapshotSchema } }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      await authorizedWorker(node, request, id);
      const body = request.body;
      const result = await forkWorker(ctx, id, {
        name: body.name,
        snapshot: body.snapshot,
        authorize: (ns) => authorizeNamespace(request, ns, { hideAs404: true, notFoundMessage: `no worker ${id}` }),
      });
      return reply.status(201).send(result);
    },
  );

  app.get(
    '/v1/workers/:id/snapshots',
    {
      config: { role: 'project', placement: 'worker' },
      schema: {
        summary: "A worker's committed snapshots, oldest first (?pauses=true: its pause records too)",
        params: workerIdParams,
        querystring: { type: 'object', properties: { pauses: { type: 'boolean' } } },
        response: {
          200: {
            type: 'object',
            properties: { snapshots: { type: 'array', items: snapshotSchema }, lastSnapshot: { type: ['string', 'null'] }, lastCommit: { type: ['string', 'null'] } },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      await authorizedWorker(node, request, id);
      return listSnapshots(ctx, id, { pauses: request.query.pauses });
    },
  );
}
