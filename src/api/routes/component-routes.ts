import { rm } from 'node:fs/promises';
import type { SchemaTypes } from '../schema-types.js';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { WarrenError } from '../../errors.js';
import type { WarrenNode } from '../../services/warren-node.js';
import { pushComponent } from '../../services/components/push-component.js';
import { deleteComponentVersion, getModuleBytes, listComponents, showComponent } from '../../services/components/query-components.js';
import { getComponentVersion } from '../../services/components/component-keys.js';
import { authorizeNamespace, principalNamespaces } from '../auth/index.js';
import { MAX_MODULE_BYTES } from '../upload-limits.js';
import { zipUploadLimit } from '../../manifest/zip-limits.js';
import { parseManifest } from '../../manifest/parse-manifest.js';
import { readPushParts } from './read-push-parts.js';
import { binaryContent } from '../openapi-transform.js';
import { fqParam, fqVersionParams, errorResponses, componentVersionSchema } from './schemas.js';

const namespaceOf = (fq: string) => fq.slice(0, fq.lastIndexOf('.'));

export async function componentRoutes(fastify: FastifyInstance, { node }: { node: WarrenNode }): Promise<void> {
  const app = fastify.withTypeProvider<SchemaTypes>();
  const ctx = node.ctx;

  app.post(
    '/v1/components',
    {
      config: { role: 'project' },
      schema: {
        summary: 'Push a component version (multipart: manifest, module, files.zip)',
        description:
          'multipart/form-data with parts `manifest` (warren.toml text, a field or a file part, at most 1 MiB; first), `module` (the main .wasm) and, when the manifest has [[files]], `files` (a zip made by `warren component push`). The manifest is checked, and the namespace authorized, before the other parts are read. Pushing the same bytes again is idempotent (200); different bytes under an existing version are 409 E_VERSION_EXISTS.',
        consumes: ['multipart/form-data'],
        documentedBody: {
          required: true,
          content: {
            'multipart/form-data': {
              schema: {
                type: 'object',
                required: ['manifest', 'module'],
                properties: {
                  manifest: { type: 'string', description: 'warren.toml, as a field or a file part; first; at most 1 MiB' },
                  module: { type: 'string', format: 'binary', description: 'the main module (.wasm)' },
                  files: { type: 'string', format: 'binary', description: 'a zip of the [[files]] (as `warren component push` packs it), when the manifest has any' },
                },
              },
            },
          },
        },
        querystring: {
          type: 'object',
          properties: { namespace: { type: 'string', description: "the manifest's namespace: when given, the caller's rights to it are checked before the body is read" } },
        },
        response: { 200: componentVersionSchema, 201: componentVersionSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) throw new WarrenError('E_BAD_REQUEST', 'push a component as multipart/form-data with parts manifest, module and files');
      // Named in the query, the namespace is authorized before a byte of the body is read.
      const claimed = request.query.namespace;
      if (claimed !== undefined) {
        try {
          authorizeNamespace(request, claimed);
        } catch (err) {
          void reply.header('connection', 'close');
          throw err;
        }
      }
      const staging = join(ctx.layout.staging, `push-${randomBytes(6).toString('hex')}`);
      try {
        const limits = { maxModuleBytes: MAX_MODULE_BYTES, maxZipBytes: zipUploadLimit(ctx.zipLimits) };
        const parts = await readPushParts(request, staging, limits, (text) =>
          parseManifest(text, {
            checkNamespace: (ns) => {
              if (claimed !== undefined && ns !== claimed) {
                throw new WarrenError('E_BAD_REQUEST', `the manifest's namespace ${ns} is not the namespace ${claimed} the push names`, { namespace: ns, claimed });
              }
              authorizeNamespace(request, ns);
            },
          }),
        );
        const { record, created } = await pushComponent(ctx, {
          manifest: parts.manifest,
          module: parts.module ?? new Uint8Array(0),
          filesZip: parts.filesZip,
          authorize: (ns) => authorizeNamespace(request, ns),
        });
        return reply.status(created ? 201 : 200).send(record);
      } catch (err) {
        // Refused before its body ended (a manifest too large, a namespace not its own): the rest
        // is not read, and the connection goes with the answer instead of waiting on it.
        if (!request.raw.readableEnded) void reply.header('connection', 'close');
        throw err;
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    },
  );

  app.get(
    '/v1/components',
    {
      config: { role: 'shared-reader' },
      schema: {
        summary: 'List components (a project token sees its namespaces only)',
        response: {
          200: {
            type: 'object',
            properties: {
              components: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    fq: { type: 'string' },
                    namespace: { type: 'string' },
                    name: { type: 'string' },
                    latest: { type: 'string' },
                    versions: { type: 'array', items: { type: 'string' } },
                    description: { type: 'string' },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (request) => ({ components: await listComponents(ctx, { namespaces: principalNamespaces(request) }) }),
  );

  const showSchema = {
    summary: 'A component and its versions',
    params: fqParam,
    response: { 200: { type: 'object', properties: { fq: { type: 'string' }, versions: { type: 'array', items: componentVersionSchema } } }, ...errorResponses },
  };
  app.get('/v1/components/:fq', { config: { role: 'shared-reader' }, schema: showSchema }, async (request) => {
    const { fq } = request.params;
    authorizeNamespace(request, namespaceOf(fq), { hideAs404: true });
    return showComponent(ctx, fq);
  });
  app.head('/v1/components/:fq', { config: { role: 'shared-reader' }, schema: { summary: 'Does the component exist', params: fqParam } }, async (request, reply) => {
    const { fq } = request.params;
    authorizeNamespace(request, namespaceOf(fq), { hideAs404: true });
    await showComponent(ctx, fq);
    return reply.status(200).send();
  });

  app.get(
    '/v1/components/:fq/versions/:version',
    { config: { role: 'shared-reader' }, schema: { summary: 'One component version', params: fqVersionParams, response: { 200: componentVersionSchema, ...errorResponses } } },
    async (request) => {
      const { fq, version } = request.params;
      authorizeNamespace(request, namespaceOf(fq), { hideAs404: true });
      return getComponentVersion(ctx.ports.registry, fq, version);
    },
  );

  app.get(
    '/v1/components/:fq/versions/:version/module',
    {
      config: { role: 'shared-reader' },
      schema: {
        summary: 'The main module bytes',
        params: fqVersionParams,
        produces: ['application/wasm'],
        response: errorResponses,
        documentedResponses: { 200: { description: 'the module; its digest in x-warren-digest', content: binaryContent('application/wasm') } },
      },
    },
    async (request, reply) => {
      const { fq, version } = request.params;
      authorizeNamespace(request, namespaceOf(fq), { hideAs404: true });
      const { record, bytes } = await getModuleBytes(ctx, fq, version);
      return reply.header('content-type', 'application/wasm').header('x-warren-digest', record.module.digest).send(bytes);
    },
  );

  app.delete(
    '/v1/components/:fq/versions/:version',
    {
      config: { role: 'project' },
      schema: { summary: 'Delete a version (refused with E_IN_USE while workers use it)', params: fqVersionParams, response: { 200: componentVersionSchema, ...errorResponses } },
    },
    async (request) => {
      const { fq, version } = request.params;
      authorizeNamespace(request, namespaceOf(fq), { hideAs404: true });
      return deleteComponentVersion(ctx, fq, version);
    },
  );
}
