import type { Principal } from '../../services/tokens/index.js';
import type { RouteRole } from './route-role.js';
import type { RoutePlacement } from '../cluster/route-placement.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on every non-public route once the bearer token has verified. */
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** The role the route needs; every route declares one (assertEveryRouteDeclaresRole). */
    role?: RouteRole;
    /** Where a cluster runs the request (registerClusterRouting); absent: on the node it reached. */
    placement?: RoutePlacement;
    /** Where the route takes a component ref `fq@version` to split (acceptComponentRefs). */
    componentRef?: 'body' | 'params';
  }
}
