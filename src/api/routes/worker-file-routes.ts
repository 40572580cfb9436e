import type { FastifyInstance, FastifyReply } from 'fastify';
import type { SchemaTypes } from '../schema-types.js';
import type { WarrenNode } from '../../services/warren-node.js';
import { archiveWorkerDir } from '../../services/workers/archive-worker-dir.js';
import { listWorkerFiles } from '../../services/workers/list-worker-files.js';
import { readWorkerFile } from '../../services/workers/read-worker-file.js';
import { errorResponses } from './schemas.js';
import { binaryContent } from '../openapi-transform.js';
import { authorizedWorker, workerIdParams } from './worker-access.js';

const guestPathParam = { type: 'string', maxLength: 4096, description: 'absolute guest path; no "..", symbolic links are never followed' } as const;
/** `recursive` only where it means something (the listing): contents and archives ignore it. */
const listQuery = { type: 'object', properties: { path: guestPathParam, recursive: { type: 'boolean', description: 'every descendant, not only the children' } } } as const;
const fileQuery = { type: 'object', required: ['path'], properties: { path: guestPathParam } } as const;
const dirQuery = { type: 'object', properties: { path: guestPathParam } } as const;

const fileNodeSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    path: { type: 'string' },
    kind: { type: 'string', enum: ['file', 'directory'] },
    size: { type: 'number' },
    permissions: { type: 'string', enum: ['read-only', 'read-write'] },
    lastModified: { type: 'string' },
  },
} as const;

/** Aborts when the client goes away before its response is complete. */
function clientGone(reply: FastifyReply): AbortSignal {
  const gone = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) gone.abort();
  });
  return gone.signal;
}

/**
 * Golem's worker file API. Every read runs in the worker's queue, between two calls, so it
 * never sees a half-written file; contents and archives are then streamed from a staged copy,
 * outside the queue. A read whose client went away stops: while it waits, stages or streams.
 */
export async function workerFileRoutes(fastify: FastifyInstance, { node }: { node: WarrenNode }): Promise<void> {
  const app = fastify.withTypeProvider<SchemaTypes>();
  const ctx = node.ctx;

  app.get(
    '/v1/workers/:id/files',
    {
      config: { role: 'project', placement: 'worker' },
      schema: {
        summary: "List a worker's files: a directory's children (all descendants with recursive=true), or one file",
        params: workerIdParams,
        querystring: listQuery,
        response: { 200: { type: 'object', properties: { nodes: { type: 'array', items: fileNodeSchema } } }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const q = request.query;
      await authorizedWorker(node, request, id);
      return { nodes: await listWorkerFiles(ctx, id, q.path ?? '/', q.recursive ?? false, clientGone(reply)) };
    },
  );

  app.get(
    '/v1/workers/:id/file-contents',
    {
      config: { role: 'project', placement: 'worker' },
      schema: {
        summary: "A worker file's bytes",
        params: workerIdParams,
        querystring: fileQuery,
        produces: ['application/octet-stream'],
        response: { ...errorResponses },
        documentedResponses: { 200: { description: 'the bytes; x-warren-permissions says read-only or read-write', content: binaryContent('application/octet-stream') } },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      await authorizedWorker(node, request, id);
      const file = await readWorkerFile(ctx, id, request.query.path, clientGone(reply));
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-length', String(file.size))
        .header('last-modified', file.lastModified.toUTCString())
        .header('x-warren-permissions', file.readOnly ? 'read-only' : 'read-write')
        .send(file.stream);
    },
  );

  app.get(
    '/v1/workers/:id/archive',
    {
      config: { role: 'project', placement: 'worker' },
      schema: {
        summary: 'A zip of a worker directory',
        params: workerIdParams,
        querystring: dirQuery,
        produces: ['application/zip'],
        response: { ...errorResponses },
        documentedResponses: { 200: { description: 'a zip of the directory (streamed)', content: binaryContent('application/zip') } },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const worker = await authorizedWorker(node, request, id);
      const path = request.query.path ?? '/';
      const archive = await archiveWorkerDir(ctx, id, path, clientGone(reply));
      const base = archive.guestPath === '/' ? worker.name : archive.guestPath.slice(archive.guestPath.lastIndexOf('/') + 1);
      return reply
        .header('content-type', 'application/zip')
        .header('content-disposition', `attachment; filename="${base.replace(/[^\w.-]/g, '_')}.zip"`)
        .send(archive.stream);
    },
  );
}
