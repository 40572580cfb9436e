/** The API's auth: one hook, the role every route declares, the per-request namespace check. */
import './fastify-augment.js';
export { registerAuth, type AuthOptions } from './register-auth.js';
export { authorizeNamespace, principalNamespaces, requirePrincipal, type AuthorizeNamespaceOptions } from './authorize-namespace.js';
export { assertEveryRouteDeclaresRole, declaredRoutes, type DeclaredRoute } from './declared-routes.js';
export { ROUTE_ROLES, TOKEN_ROLES_FOR_ROUTE, isRouteRole, type RouteRole } from './route-role.js';
export { tokenRoutes, type TokenRoutesOptions, type TokenRecordWithStatus } from './token-routes.js';
export { whoamiRoute } from './whoami-route.js';
