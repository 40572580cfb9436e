import type { FastifyRequest } from 'fastify';
import type { WorkerRecord } from '../../records.js';
import type { WarrenNode } from '../../services/warren-node.js';
import { getWorker } from '../../services/workers/get-worker.js';
import { authorizeNamespace } from '../auth/index.js';

// What the worker, snapshot and worker-file routes share: the `{id}` parameter, the worker's
// response shape and the namespace check (its own module, so those route files do not import
// each other).

export const workerIdParams = {
  type: 'object',
  required: ['id'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 200, description: "the worker's id (w_…); or, resolved to it before validation, namespace/name (URL-encoded) or a bare name for a token of one namespace" },
  },
} as const;

export const workerSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    namespace: { type: 'string' },
    component: { type: 'string' },
    version: { type: 'string' },
    node: { type: 'string' },
    status: { type: 'string' },
    env: { type: 'object', additionalProperties: { type: 'string' } },
    args: { type: 'array', items: { type: 'string' } },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
    lastSnapshot: { type: ['string', 'null'] },
    lastCommit: { type: ['string', 'null'] },
    error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
  },
} as const;

/** The worker of `id`, if the caller may see its namespace; another namespace's worker is 404. */
export async function authorizedWorker(node: WarrenNode, request: FastifyRequest, id: string): Promise<WorkerRecord> {
  const worker = await getWorker(node.ctx, id);
  authorizeNamespace(request, worker.namespace, { hideAs404: true, notFoundMessage: `no worker ${id}` });
  return worker;
}
