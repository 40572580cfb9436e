import type { TokenRole } from '../../services/tokens/index.js';

/**
 * The role a route declares in `config: { role }`. Every route declares one; see
 * registerAuth for how each is enforced.
 */
export const ROUTE_ROLES = ['public', 'admin', 'project', 'shared-reader', 'store-reader', 'metrics', 'node', 'dev'] as const;

export type RouteRole = (typeof ROUTE_ROLES)[number];

export function isRouteRole(value: unknown): value is RouteRole {
  return typeof value === 'string' && (ROUTE_ROLES as readonly string[]).includes(value);
}

/**
 * Which token roles may call a route of each role. `project` routes also check the namespace per
 * request (authorizeNamespace); `node` tokens pass them because a cluster node forwards calls.
 * `store-reader` routes (blobs by digest) are for the roles not scoped to namespaces.
 * `public` needs no token at all.
 */
export const TOKEN_ROLES_FOR_ROUTE: Readonly<Record<Exclude<RouteRole, 'public'>, readonly TokenRole[]>> = {
  admin: ['admin'],
  dev: ['admin'],
  project: ['admin', 'project', 'node'],
  'shared-reader': ['admin', 'shared-reader', 'project', 'node'],
  // Blobs by digest carry no namespace: tokens scoped to namespaces must not read the whole store.
  'store-reader': ['admin', 'shared-reader', 'node'],
  // Node-wide counters (every namespace's jobs and workers): not for a project token.
  metrics: ['admin', 'shared-reader', 'node'],
  node: ['admin', 'node'],
};
