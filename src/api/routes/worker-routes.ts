import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import { matchesSchema, type SchemaTypes } from '../schema-types.js';
import { WarrenError } from '../../errors.js';
import type { WarrenNode } from '../../services/warren-node.js';
import { createWorker } from '../../services/workers/create-worker.js';
import { deleteWorker } from '../../services/workers/delete-worker.js';
import { cancelInvocation, invokeWorker, type InvokeWorkerInput } from '../../services/instances/invoke-worker.js';
import { headerText } from './job-routes.js';
import { listWorkers, MAX_PAGE } from '../../services/workers/list-workers.js';
import { updateWorker } from '../../services/workers/update-worker.js';
import { authorizeNamespace, principalNamespaces } from '../auth/index.js';
import { errorResponses } from './schemas.js';
import { snapshotRoutes } from './snapshot-routes.js';
import { workerFileRoutes } from './worker-file-routes.js';
import { resolveWorkerRefs } from './worker-ref-hook.js';
import { authorizedWorker, workerIdParams, workerSchema } from './worker-access.js';
import { binaryContent } from '../openapi-transform.js';
import { acceptComponentRefs } from './component-ref-hooks.js';

const MAX_STDIN_BYTES = 64 * 1024 * 1024;

/** What a JSON call answers (a stdin call answers stdout, its result in headers). */
const invokeResultSchema = {
  type: 'object',
  properties: {
    workerId: { type: 'string' },
    version: { type: 'string' },
    returns: { type: 'array', items: { type: ['number', 'string'] }, description: 'i64 and non-finite floats as strings' },
    exitCode: { type: 'integer' },
    started: { type: 'boolean' },
    resumedFrom: { type: ['string', 'null'] },
    durationMs: { type: 'number' },
    replayed: { type: 'boolean' },
    committed: { type: ['string', 'null'] },
    stdout: { type: 'string' },
    stderr: { type: 'string' },
  },
  additionalProperties: true,
} as const;

/** `/v1/workers`: create, list (filter + cursor), show, delete, update, invoke. */
export async function workerRoutes(fastify: FastifyInstance, { node }: { node: WarrenNode }): Promise<void> {
  const app = fastify.withTypeProvider<SchemaTypes>();
  const ctx = node.ctx;
  resolveWorkerRefs(app, node);
  acceptComponentRefs(app);
  await app.register(workerFileRoutes, { node });
  await app.register(snapshotRoutes, { node });

  app.post(
    '/v1/workers',
    {
      config: { role: 'project', placement: 'new-worker', componentRef: 'body' },
      schema: {
        summary: 'Create a worker of a component version (default: the latest)',
        body: {
          type: 'object',
          required: ['component', 'name'],
          additionalProperties: false,
          properties: {
            component: { type: 'string', maxLength: 128, description: 'fq name, e.g. sh.warren.counter; or fq@version (split from it before validation)' },
            version: { type: 'string', maxLength: 64 },
            name: { type: 'string', maxLength: 63, description: 'unique per namespace; a DNS label ([a-z0-9-], 1-63)' },
            env: { type: 'object', additionalProperties: { type: 'string' } },
            args: { type: 'array', items: { type: 'string' }, maxItems: 256 },
          },
        },
        response: { 201: workerSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const worker = await createWorker(ctx, {
        ...body,
        authorize: (ns) => authorizeNamespace(request, ns, { hideAs404: true, notFoundMessage: `no component ${body.component}` }),
      });
      return reply.status(201).send(worker);
    },
  );

  app.get(
    '/v1/workers',
    {
      config: { role: 'project' },
      schema: {
        summary: 'List workers: ?filter=status == idle and env.REGION == eu&count=50&cursor=…',
        description:
          'Filters are `FIELD OP VALUE` clauses joined by `and`; fields name, status, version, created_at, component, env.NAME; operators == != > < >= <= like startswith. A project token sees its namespaces only.',
        querystring: {
          type: 'object',
          properties: {
            filter: { type: 'array', items: { type: 'string', maxLength: 4096 }, maxItems: 16 },
            count: { type: 'integer', minimum: 1, maximum: MAX_PAGE },
            cursor: { type: 'string', maxLength: 512 },
          },
        },
        response: { 200: { type: 'object', properties: { workers: { type: 'array', items: workerSchema }, cursor: { type: ['string', 'null'] } } }, ...errorResponses },
      },
    },
    async (request) => {
      const q = request.query;
      return listWorkers(ctx, { filter: q.filter, count: q.count, cursor: q.cursor, namespaces: principalNamespaces(request) });
    },
  );

  app.get(
    '/v1/workers/:id',
    { config: { role: 'project' }, schema: { summary: 'One worker', params: workerIdParams, response: { 200: workerSchema, ...errorResponses } } },
    async (request) => authorizedWorker(node, request, request.params.id),
  );

  app.delete(
    '/v1/workers/:id',
    {
      config: { role: 'project', placement: 'worker' },
      schema: { summary: 'Delete a worker: stops it and removes its files (blobs stay until GC)', params: workerIdParams, response: { 200: workerSchema, ...errorResponses } },
    },
    async (request) => {
      const { id } = request.params;
      await authorizedWorker(node, request, id);
      return deleteWorker(ctx, id);
    },
  );

  app.post(
    '/v1/workers/:id/update',
    {
      config: { role: 'project', placement: 'worker' },
      schema: {
        summary: "Move a worker to another version of its component (Golem's file rules; rw→ro is refused)",
        params: workerIdParams,
        body: { type: 'object', required: ['version'], additionalProperties: false, properties: { version: { type: 'string', minLength: 1, maxLength: 64 } } },
        response: {
          200: { type: 'object', properties: { worker: workerSchema, from: { type: 'string' }, to: { type: 'string' }, changed: { type: 'boolean' } } },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      await authorizedWorker(node, request, id);
      return updateWorker(ctx, id, request.body.version);
    },
  );

  app.delete(
    '/v1/workers/:id/invocations/:key',
    {
      config: { role: 'project', placement: 'worker' },
      schema: {
        summary: 'Cancel a queued call by its idempotency key (it never runs; its caller gets 409 E_CANCELLED)',
        params: { type: 'object', required: ['id', 'key'], properties: { id: { type: 'string' }, key: { type: 'string', minLength: 1, maxLength: 200 } } },
        response: {
          200: { type: 'object', properties: { cancelled: { type: 'boolean' }, worker: { type: 'string' }, idempotencyKey: { type: 'string' } } },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { id, key } = request.params;
      await authorizedWorker(node, request, id);
      cancelInvocation(ctx, id, key);
      return { cancelled: true, worker: id, idempotencyKey: key };
    },
  );

  await app.register(async (invokeScope) => {
    // Raw bodies here: JSON `{export, args}` or stdin bytes, decided per request.
    invokeScope.removeAllContentTypeParsers();
    invokeScope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_STDIN_BYTES }, (_req, body, done) => done(null, body));
    invokeScope.withTypeProvider<SchemaTypes>().post(
      '/v1/workers/:id/invoke',
      {
        config: { role: 'project', placement: 'worker' },
        schema: {
          summary: 'Call a worker: JSON {export, args} → {returns}; or stdin/stdout (?stdin=1 or a non-JSON body)',
          description:
            'JSON body `{"export": "increment", "args": [1, 2]}` calls an exported function and answers `{returns, stdout, stderr, replayed, committed}`. An `Idempotency-Key` header (1-200 visible ASCII characters) makes the call at most once within 24 h: a retry with the key gets the first call\'s result (`replayed: true`; with `[snapshots] on_call` the key is durable with the call\'s snapshot, so it holds across a crash); `DELETE /v1/workers/{id}/invocations/{key}` cancels it while it is queued. Arguments follow the export\'s parameter types: i32 an integer from -2^31 to 2^32-1, i64 a decimal string (or a safe integer), f32/f64 a number (or "NaN", "Infinity", "-Infinity"); any type also takes its value as a decimal string. i64 results and non-finite float results come back as strings. Wrong arity or types are 400 E_BAD_ARGS naming the signature, e.g. `mix(i64, f64, i32) -> i64`. With `?stdin=1` or any non-JSON content type the body is stdin, `_start` runs (or `?export=`), the response is stdout, and the exit code and stderr are the headers `x-warren-exit-code` and `x-warren-stderr` (URI-encoded). Calls of one worker run one at a time. An `Idempotency-Key` header (1-200 visible ASCII characters) makes a call happen at most once within 24 h: a retry with the key gets the first result (`replayed: true`, header `x-warren-replayed: 1`); with `[snapshots] on_call` the key is made durable with the call\'s snapshot, so it holds across a crash of the node. `DELETE /v1/workers/{id}/invocations/{key}` cancels a call while it is queued.',
          params: workerIdParams,
          querystring: { type: 'object', properties: { stdin: { type: 'string', enum: ['1', 'true', '0', 'false'] }, export: { type: 'string', maxLength: 256 } } },
          response: { 200: invokeResultSchema, ...errorResponses },
          documentedBody: { required: false, content: { 'application/json': { schema: invokeCallSchema }, ...binaryContent('application/octet-stream') } },
          documentedResponses: { 200: { description: 'JSON calls: the result; stdin calls: stdout, with x-warren-exit-code and x-warren-stderr', content: binaryContent('application/octet-stream') } },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        await authorizedWorker(node, request, id);
        const q = request.query;
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const json = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase() === 'application/json';
        const key = request.headers['idempotency-key'];
        const idempotencyKey = typeof key === 'string' ? key : undefined;
        if (q.stdin === '1' || q.stdin === 'true' || !json) return invokeWithStdin(node, id, body, q.export, reply, idempotencyKey);
        return invokeJson(node, id, parseInvokeBody(request, body), idempotencyKey);
      },
    );
  });
}

/**
 * A JSON call's body: its shape is checked by this schema (the one the OpenAPI document shows);
 * its arguments are checked against the export's signature by the service (E_BAD_ARGS), which
 * knows the types, so here they are any JSON value. The body is parsed by the route, not by
 * Fastify, because the same route takes stdin bytes.
 */
const invokeCallSchema = {
  type: 'object',
  description: "one of export (a module's function) or function (a component's)",
  anyOf: [{ required: ['export'] }, { required: ['function'] }],
  properties: {
    export: { type: 'string', minLength: 1, maxLength: 256 },
    function: { type: 'string', minLength: 1, maxLength: 256, description: "a component's exported function" },
    args: { description: "an array typed by the export's signature (numbers, i64 as decimal strings; a component's values as JSON); E_BAD_ARGS otherwise" },
  },
} as const;

function parseInvokeBody(request: FastifyRequest, body: Buffer): { export: string; args: unknown } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new WarrenError('E_BAD_REQUEST', 'invoke body is not valid JSON: send {"export": NAME, "args": [numbers or decimal strings]}, or stdin with ?stdin=1');
  }
  if (!matchesSchema<FromSchema<typeof invokeCallSchema>>(request, invokeCallSchema, parsed)) {
    throw new WarrenError('E_BAD_REQUEST', 'invoke body needs "export" (or "function" for a component): the name of an exported function', { field: 'export' });
  }
  // `function` is how a component's typed call names it (`{"function": "add", "args": ["apple", 3]}`).
  return { export: (parsed.function ?? parsed.export)!, args: parsed.args ?? [] };
}

async function invokeJson(node: WarrenNode, id: string, call: { export: string; args: unknown }, idempotencyKey: string | undefined): Promise<Record<string, unknown>> {
  const out = collector();
  const err = collector();
  const result = await invokeWorker(node.ctx, id, { export: call.export, args: call.args, onStdout: out.push, onStderr: err.push, idempotencyKey });
  return { ...result, stdout: out.text(), stderr: err.text() };
}

async function invokeWithStdin(node: WarrenNode, id: string, stdin: Buffer, exportName: string | undefined, reply: FastifyReply, idempotencyKey: string | undefined): Promise<FastifyReply> {
  const out = collector();
  const err = collector();
  const input: InvokeWorkerInput = { stdin, export: exportName || undefined, onStdout: out.push, onStderr: err.push, idempotencyKey };
  const result = await invokeWorker(node.ctx, id, input);
  if (result.replayed) reply.header('x-warren-replayed', '1');
  if (result.committed) reply.header('x-warren-committed', result.committed);
  reply
    .header('content-type', 'application/octet-stream')
    .header('x-warren-stderr', headerText([err.bytes()]))
    .header('x-warren-version', result.version)
    .header('x-warren-duration-ms', result.durationMs.toFixed(1));
  if (result.exitCode !== undefined) reply.header('x-warren-exit-code', String(result.exitCode));
  if (result.returns !== undefined) reply.header('x-warren-returns', JSON.stringify(result.returns));
  return reply.send(out.bytes());
}

function collector(): { push: (c: Uint8Array) => void; bytes: () => Buffer; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    push: (c) => chunks.push(Buffer.from(c)),
    bytes: () => Buffer.concat(chunks),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}
