import type { FastifyInstance, FastifyRequest, FastifySchema, RouteOptions } from 'fastify';
import { WarrenError } from '../../errors.js';
import type { TokenService } from '../../services/tokens/index.js';
import { bearerTokenOf } from './bearer-token.js';
import { collectDeclaredRoutes, recordDeclaredRoute } from './declared-routes.js';
import './fastify-augment.js';
import { TOKEN_ROLES_FOR_ROUTE, isRouteRole, type RouteRole } from './route-role.js';

export interface AuthOptions {
  tokens: Pick<TokenService, 'verify'>;
}

/**
 * The API's one auth hook. Call it on the root instance before registering routes (not through
 * `app.register`, which would encapsulate the hooks). Every route declares `config: { role }`:
 *  - `public`: no token read at all (`/healthz`, `/openapi.json`; `/metrics` only under
 *    `serve --metrics-public`, else it is a `metrics` route).
 *  - other roles: `Authorization: Bearer <token>` is verified before the body is read
 *    (onRequest), `request.principal` is set, and the token's role must be one the route role
 *    grants (TOKEN_ROLES_FOR_ROUTE); namespace checks are the route's (authorizeNamespace).
 *  - no role: 500 at request time, and assertEveryRouteDeclaresRole fails.
 * The OpenAPI document gets `security: [{ bearer: [] }]` and `x-warren-role` on every operation.
 */
export async function registerAuth(app: FastifyInstance, { tokens }: AuthOptions): Promise<void> {
  const routes = collectDeclaredRoutes(app);

  app.addHook('onRoute', (route: RouteOptions) => {
    const role = route.config?.role;
    recordDeclaredRoute(routes, route.method, route.url, role, route.config?.placement);
    if (!isRouteRole(role)) return;
    // A new object: the route's schema may be shared with other routes. Fastify reads route.schema
    // after the onRoute hooks, and @fastify/swagger copies `x-` keys into the operation.
    const schema: FastifySchema & Record<string, unknown> = { ...route.schema, 'x-warren-role': role };
    if (role !== 'public' && schema.security === undefined) schema.security = [{ bearer: [] }];
    route.schema = schema;
  });

  app.addHook('onRequest', async (request, reply) => {
    if (request.is404) return; // the not-found handler answers 404 to everyone
    const role = request.routeOptions.config.role;
    if (role === 'public') return;
    if (!isRouteRole(role)) {
      throw new WarrenError('E_INTERNAL', `route ${request.method} ${request.routeOptions.url} declares no role (config: { role })`);
    }
    try {
      request.principal = await tokens.verify(bearerTokenOf(request.headers.authorization));
    } catch (err) {
      void reply.header('www-authenticate', 'Bearer realm="warren"');
      throw err;
    }
    checkRole(request, role);
  });
}

function checkRole(request: FastifyRequest, role: Exclude<RouteRole, 'public'>): void {
  const principal = request.principal!;
  if (!TOKEN_ROLES_FOR_ROUTE[role].includes(principal.role)) {
    throw new WarrenError('E_FORBIDDEN', `a ${principal.role} token may not call ${request.method} ${request.routeOptions.url} (needs ${role})`, {
      role: principal.role,
      needs: role,
    });
  }
}
