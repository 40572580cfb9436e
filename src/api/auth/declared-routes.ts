import type { FastifyInstance } from 'fastify';
import { isRouteRole, type RouteRole } from './route-role.js';
import type { RoutePlacement } from '../cluster/route-placement.js';

export interface DeclaredRoute {
  method: string;
  url: string;
  /** What the route put in `config.role`; undefined when nothing (or not a known role). */
  role: RouteRole | undefined;
  /** What the route put in `config.placement` (where a cluster runs it); undefined: where it lands. */
  placement: RoutePlacement | undefined;
}

const declared = new WeakMap<FastifyInstance, DeclaredRoute[]>();

/** Starts collecting the routes of `app` (and its child plugins) as they are added. */
export function collectDeclaredRoutes(app: FastifyInstance): DeclaredRoute[] {
  const routes: DeclaredRoute[] = [];
  declared.set(app, routes);
  return routes;
}

export function recordDeclaredRoute(routes: DeclaredRoute[], method: string | string[], url: string, role: unknown, placement?: RoutePlacement): void {
  for (const m of Array.isArray(method) ? method : [method]) routes.push({ method: m, url, role: isRouteRole(role) ? role : undefined, placement });
}

/** Every route added to `app` since registerAuth, with its role. */
export function declaredRoutes(app: FastifyInstance): DeclaredRoute[] {
  const routes = declared.get(app);
  if (!routes) throw new Error('registerAuth(app) has not been called on this Fastify instance');
  return [...routes];
}

/** Throws, listing them, when any route lacks a valid `config.role`. Call after `await app.ready()`. */
export function assertEveryRouteDeclaresRole(app: FastifyInstance): void {
  const missing = declaredRoutes(app).filter((r) => r.role === undefined);
  if (missing.length > 0) {
    throw new Error(`routes without a declared role (config: { role }): ${missing.map((r) => `${r.method} ${r.url}`).join(', ')}`);
  }
}
