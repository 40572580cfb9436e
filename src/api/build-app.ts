import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import multipart from '@fastify/multipart';
import { WarrenError, isWarrenError } from '../errors.js';
import { isFdExhaustion, tooManyFilesError } from '../host-failure.js';
import type { WarrenNode } from '../services/warren-node.js';
import { registerAuth } from './auth/index.js';
import { registerClusterRouting } from './cluster/register-cluster-routing.js';
import { statusOf } from './error-status.js';
import { clientErrorHandler, HostPathRedactor } from './error-body.js';
import { openapiTransform } from './openapi-transform.js';
import { healthRoutes } from './routes/health-routes.js';
import { componentRoutes } from './routes/component-routes.js';
import { MAX_FILES_ZIP_BYTES } from './upload-limits.js';
import { jobRoutes } from './routes/job-routes.js';
import { blobRoutes } from './routes/blob-routes.js';
import { adminRoutes } from './routes/admin-routes.js';
import { workerRoutes } from './routes/worker-routes.js';
import { tokenRoutes } from './auth/token-routes.js';
import { whoamiRoute } from './auth/whoami-route.js';
import { ConsoleSessions, registerSessionCookies } from './auth/session-cookie.js';
import { uiRoutes } from './routes/ui-routes.js';
import { componentFileRoutes } from './routes/component-file-routes.js';

export interface BuildAppOptions {
  node: WarrenNode;
  /** Development mode: dev-only routes, verbose request logs. */
  dev?: boolean;
  /**
   * Fastify's own logger options (dev: every request at debug). Absent or false: the node's pino
   * logger, without per-request lines: 5xx errors are always logged, with their request id.
   */
  logger?: boolean | object;
  /** `/metrics` without a token (`serve --metrics-public`). */
  metricsPublic?: boolean;
  /** Extra route plugins (workers, snapshots...) registered with the same node. */
  plugins?: ((app: FastifyInstance, opts: { node: WarrenNode; dev: boolean }) => Promise<void>)[];
}


/**
 * The HTTP API. Routes are thin (parse, authorize, call a service); their JSON schemas are the
 * validation, the serializer and the OpenAPI document at once; each declares the role it needs
 * in `config.role`, enforced by the auth plugin registered once here.
 */
export async function buildApp(opts: BuildAppOptions): Promise<FastifyInstance> {
  const own = typeof opts.logger === 'object' || opts.logger === true;
  const app = Fastify({
    ...(own ? { logger: opts.logger } : { loggerInstance: opts.node.ctx.logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) }),
    bodyLimit: 16 * 1024 * 1024,
    // HEAD routes are declared explicitly where they make sense (components, blobs), with their role.
    exposeHeadRoutes: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    clientErrorHandler,
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Warren', version: '1', description: 'A host for sandboxed WebAssembly workloads' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'PASETO v4.public' } } },
    },
    transform: openapiTransform,
  });
  await app.register(multipart, { limits: { fileSize: MAX_FILES_ZIP_BYTES, files: 2, fields: 4, fieldSize: 1024 * 1024 } });
  const redactor = new HostPathRedactor(opts.node.ctx.layout.root);
  app.setErrorHandler((err: FastifyError | WarrenError, request, reply) => {
    const warren = toWarrenError(err);
    const status = statusOf(warren.code);
    if (status >= 500 && warren.code !== 'E_BUSY') request.log.error({ err, code: warren.code, method: request.method, url: request.url }, 'request failed');
    // E_BUSY (a full queue) says when to come back.
    if (typeof warren.details.retryAfterSeconds === 'number') void reply.header('retry-after', String(warren.details.retryAfterSeconds));
    void reply.status(status).send(redactor.body(warren));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: 'E_NOT_FOUND', message: `no route ${request.method} ${request.url}`, details: {} } });
  });
  // The console's session cookie becomes a bearer token before the auth hook reads it.
  const sessions = new ConsoleSessions();
  await registerSessionCookies(app, { sessions });
  await registerAuth(app, { tokens: opts.node.tokens });
  await registerClusterRouting(app, { node: opts.node });
  const dev = opts.dev ?? false;
  const deps = { node: opts.node, dev };
  await app.register(healthRoutes, { ...deps, metricsPublic: opts.metricsPublic });
  await app.register(componentRoutes, deps);
  await app.register(componentFileRoutes, deps);
  await app.register(jobRoutes, deps);
  await app.register(blobRoutes, deps);
  await app.register(adminRoutes, deps);
  await app.register(workerRoutes, deps);
  await app.register(tokenRoutes, { tokens: opts.node.tokens });
  await app.register(whoamiRoute);
  await app.register(uiRoutes, { tokens: opts.node.tokens, sessions });
  for (const plugin of opts.plugins ?? []) await app.register(plugin, deps);
  app.get('/openapi.json', { config: { role: 'public' }, schema: { hide: true } }, async () => app.swagger());
  return app;
}

/** Fastify's own errors (validation, body too large, bad JSON) become Warren errors with stable codes. */
function toWarrenError(err: unknown): WarrenError {
  if (isWarrenError(err)) return err;
  const e = err as FastifyError;
  if (e.validation) return new WarrenError('E_BAD_REQUEST', `invalid request: ${e.message}`, { validation: e.validation });
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.code === 'FST_REQ_FILE_TOO_LARGE' || e.statusCode === 413) {
    return new WarrenError('E_ZIP_TOO_LARGE', `request body too large: ${e.message}`);
  }
  if (isFdExhaustion(e)) return tooManyFilesError('request');
  if (e.code === 'ENAMETOOLONG') return new WarrenError('E_PATH_INVALID', 'a file name or path is too long for the file system', { rule: 'name-length' });
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new WarrenError(e.statusCode === 404 ? 'E_NOT_FOUND' : 'E_BAD_REQUEST', e.message, { fastifyCode: e.code });
  }
  return new WarrenError('E_INTERNAL', e?.message ?? String(err));
}
