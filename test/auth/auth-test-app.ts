import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { isWarrenError } from '../../src/errors.js';
import { authorizeNamespace, registerAuth, tokenRoutes, whoamiRoute } from '../../src/api/auth/index.js';
import type { TokenService } from '../../src/services/tokens/index.js';
import type { RouteCase } from './route-matrix.js';

/** The slice of src/api/error-status.ts these tests need. */
const STATUS: Record<string, number> = {
  E_UNAUTHORIZED: 401,
  E_TOKEN_EXPIRED: 401,
  E_TOKEN_INVALID: 401,
  E_TOKEN_REVOKED: 401,
  E_FORBIDDEN: 403,
  E_NOT_FOUND: 404,
  E_BAD_REQUEST: 400,
};

/**
 * A Fastify app with one route per role, namespace-checked routes, the token routes and
 * whoami, the auth plugin, swagger and an error handler shaped like the real one.
 */
export async function buildAuthTestApp(tokens: TokenService, opts: { undeclaredRoute?: boolean } = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(swagger, {
    openapi: { info: { title: 'auth test', version: '1' }, components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } },
  });
  app.setErrorHandler((err, _request, reply) => {
    if (isWarrenError(err)) return reply.status(STATUS[err.code] ?? 500).send({ error: err.toJSON() });
    const e = err as { statusCode?: number; message: string };
    const status = e.statusCode && e.statusCode < 500 ? e.statusCode : 500;
    return reply.status(status).send({ error: { code: status === 400 ? 'E_BAD_REQUEST' : 'E_INTERNAL', message: e.message, details: {} } });
  });
  await registerAuth(app, { tokens });
  await app.register(async (scope) => {
    scope.get('/healthz', { config: { role: 'public' } }, async () => ({ ok: true }));
    scope.get('/admin-only', { config: { role: 'admin' }, schema: { summary: 'admin' } }, async () => ({ ok: true }));
    scope.get('/node-only', { config: { role: 'node' } }, async () => ({ ok: true }));
    scope.post('/dev/reset', { config: { role: 'dev' } }, async () => ({ ok: true }));
    scope.get('/ns/:ns/jobs', { config: { role: 'project' } }, async (request) => {
      authorizeNamespace(request, (request.params as { ns: string }).ns);
      return { ok: true };
    });
    scope.get('/ns/:ns/workers/w1', { config: { role: 'project' } }, async (request) => {
      authorizeNamespace(request, (request.params as { ns: string }).ns, { hideAs404: true, notFoundMessage: 'no worker w1' });
      return { ok: true };
    });
    scope.get('/ns/:ns/versions', { config: { role: 'shared-reader' } }, async (request) => {
      authorizeNamespace(request, (request.params as { ns: string }).ns, { hideAs404: true });
      return { ok: true };
    });
    scope.get('/blobs/x', { config: { role: 'shared-reader' } }, async () => ({ ok: true }));
    if (opts.undeclaredRoute) scope.get('/forgot-role', async () => ({ ok: true }));
  });
  await app.register(tokenRoutes, { tokens });
  await app.register(whoamiRoute);
  app.get('/openapi.json', { config: { role: 'public' }, schema: { hide: true } }, async () => app.swagger());
  await app.ready();
  return app;
}

/** The routes above as matrix cases, for namespaces `a` (the project-A token's) and `b`. */
export function authTestCases(nsA: string, nsB: string): RouteCase[] {
  const cases: RouteCase[] = [
    { method: 'GET', url: '/healthz', role: 'public' },
    { method: 'GET', url: '/admin-only', role: 'admin' },
    { method: 'HEAD', url: '/admin-only', role: 'admin' },
    { method: 'GET', url: '/node-only', role: 'node' },
    { method: 'POST', url: '/dev/reset', role: 'dev' },
    { method: 'GET', url: '/blobs/x', role: 'shared-reader' },
    { method: 'GET', url: '/v1/whoami', role: 'shared-reader' },
    { method: 'GET', url: '/v1/tokens', role: 'admin' },
  ];
  for (const ns of [nsA, nsB]) {
    cases.push({ method: 'GET', url: `/ns/${ns}/jobs`, role: 'project', namespace: ns });
    cases.push({ method: 'GET', url: `/ns/${ns}/workers/w1`, role: 'project', namespace: ns, hideAs404: true });
    cases.push({ method: 'GET', url: `/ns/${ns}/versions`, role: 'shared-reader', namespace: ns, hideAs404: true });
  }
  return cases;
}
