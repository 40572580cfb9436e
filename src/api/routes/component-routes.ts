import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WarrenError } from '../../errors.js';
import type { WarrenNode } from '../../services/warren-node.js';
import { pushComponent } from '../../services/components/push-component.js';
import { deleteComponentVersion, getModuleBytes, listComponents, showComponent } from '../../services/components/query-components.js';
import { getComponentVersion } from '../../services/components/component-keys.js';
import { authorizeNamespace, principalNamespaces } from '../auth/index.js';
import { MAX_MODULE_BYTES } from '../build-app.js';
import { zipUploadLimit } from '../../manifest/zip-limits.js';
import { fqParam, fqVersionParams, errorResponses, componentVersionSchema } from './schemas.js';

const namespaceOf = (fq: string) => fq.slice(0, fq.lastIndexOf('.'));

export async function componentRoutes(app: FastifyInstance, { node }: { node: WarrenNode }): Promise<void> {
  const ctx = node.ctx;

  app.post(
    '/v1/components',
    {
      config: { role: 'project' },
      schema: {
        summary: 'Push a component version (multipart: manifest, module, files.zip)',
        description:
          'multipart/form-data with parts `manifest` (warren.toml text), `module` (the main .wasm) and, when the manifest has [[files]], `files` (a zip made by `warren component push`). Pushing the same bytes again is idempotent (200); different bytes under an existing version are 409 E_VERSION_EXISTS.',
        consumes: ['multipart/form-data'],
        response: { 200: componentVersionSchema, 201: componentVersionSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) throw new WarrenError('E_BAD_REQUEST', 'push a component as multipart/form-data with parts manifest, module and files');
      const staging = join(ctx.layout.staging, `push-${randomBytes(6).toString('hex')}`);
      try {
        const parts = await readPushParts(request, staging, zipUploadLimit(ctx.zipLimits));
        if (parts.manifestText === undefined) throw new WarrenError('E_MANIFEST_INVALID', 'the push has no `manifest` part');
        const { record, created } = await pushComponent(ctx, {
          manifestText: parts.manifestText,
          module: parts.module ?? new Uint8Array(0),
          filesZip: parts.filesZip,
          authorize: (ns) => authorizeNamespace(request, ns),
        });
        return reply.status(created ? 201 : 200).send(record);
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
    const { fq } = request.params as { fq: string };
    authorizeNamespace(request, namespaceOf(fq), { hideAs404: true });
    return showComponent(ctx, fq);
  });
  app.head('/v1/components/:fq', { config: { role: 'shared-reader' }, schema: { summary: 'Does the component exist', params: fqParam } }, async (request, reply) => {
    const { fq } = request.params as { fq: string };
    authorizeNamespace(request, namespaceOf(fq), { hideAs404: true });
    await showComponent(ctx, fq);
    return reply.status(200).send();
  });

  app.get(
    '/v1/components/:fq/versions/:version',
    { config: { role: 'shared-reader' }, schema: { summary: 'One component version', params: fqVersionParams, response: { 200: componentVersionSchema, ...errorResponses } } },
    async (request) => {
      const { fq, version } = request.params as { fq: string; version: string };
      authorizeNamespace(request, namespaceOf(fq), { hideAs404: true });
      return getComponentVersion(ctx.ports.registry, fq, version);
    },
  );

  app.get(
    '/v1/components/:fq/versions/:version/module',
    { config: { role: 'shared-reader' }, schema: { summary: 'The main module bytes', params: fqVersionParams, produces: ['application/wasm'] } },
    async (request, reply) => {
      const { fq, version } = request.params as { fq: string; version: string };
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
      const { fq, version } = request.params as { fq: string; version: string };
      authorizeNamespace(request, namespaceOf(fq), { hideAs404: true });
      return deleteComponentVersion(ctx, fq, version);
    },
  );
}

interface PushParts {
  manifestText?: string;
  module?: Buffer;
  filesZip?: string;
}

/**
 * Reads the multipart parts: the module into memory (bounded), the files zip into a staging file
 * (bounded by `maxZipBytes`, which follows the node's zip limits).
 */
async function readPushParts(request: FastifyRequest, staging: string, maxZipBytes: number): Promise<PushParts> {
  const out: PushParts = {};
  for await (const part of request.parts({ limits: { fileSize: Math.max(maxZipBytes, MAX_MODULE_BYTES) } })) {
    if (part.type === 'field') {
      if (part.fieldname === 'manifest') out.manifestText = String(part.value);
      continue;
    }
    if (part.fieldname === 'manifest') {
      out.manifestText = (await part.toBuffer()).toString('utf8');
    } else if (part.fieldname === 'module') {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of part.file) {
        size += (c as Buffer).length;
        if (size > MAX_MODULE_BYTES) throw new WarrenError('E_ZIP_TOO_LARGE', `module larger than ${MAX_MODULE_BYTES} bytes`);
        chunks.push(c as Buffer);
      }
      out.module = Buffer.concat(chunks);
    } else if (part.fieldname === 'files') {
      await mkdir(staging, { recursive: true });
      out.filesZip = join(staging, 'files.zip');
      await pipeline(part.file, createWriteStream(out.filesZip));
      if (part.file.truncated || (await stat(out.filesZip)).size > maxZipBytes) {
        throw new WarrenError('E_ZIP_TOO_LARGE', `files archive is larger than the upload limit of ${maxZipBytes} bytes (max-upload-bytes)`, { rule: 'max-upload-bytes', limit: maxZipBytes });
      }
    } else {
      part.file.resume();
      throw new WarrenError('E_BAD_REQUEST', `unexpected multipart part ${JSON.stringify(part.fieldname)} (expected manifest, module, files)`);
    }
  }
  return out;
}
