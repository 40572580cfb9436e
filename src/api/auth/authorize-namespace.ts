import type { FastifyRequest } from 'fastify';
import { WarrenError } from '../../errors.js';
import type { Principal } from '../../services/tokens/index.js';
import './fastify-augment.js';

export interface AuthorizeNamespaceOptions {
  /**
   * Answer as if the thing did not exist (E_NOT_FOUND) rather than E_FORBIDDEN, so a project
   * token cannot learn which workers or components other namespaces have.
   */
  hideAs404?: boolean;
  /** The E_NOT_FOUND message when hiding, to read like the route's real "not found". */
  notFoundMessage?: string;
}

/** The verified principal of a request; E_UNAUTHORIZED when the route let it through without one. */
export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new WarrenError('E_UNAUTHORIZED', 'this request carries no verified token');
  return request.principal;
}

/**
 * The per-request namespace check of routes that touch one namespace's things. A project token
 * passes for its own namespaces only (exact match: `sh.serval` does not cover `sh.serval.tools`);
 * admin, node and shared-reader tokens are not namespace-scoped (the route's role already
 * decided whether they may call it at all).
 */
export function authorizeNamespace(request: FastifyRequest, namespace: string, opts: AuthorizeNamespaceOptions = {}): void {
  const principal = requirePrincipal(request);
  if (principal.role !== 'project' || principal.namespaces.includes(namespace)) return;
  if (opts.hideAs404) throw new WarrenError('E_NOT_FOUND', opts.notFoundMessage ?? 'not found', {});
  throw new WarrenError('E_FORBIDDEN', `this token may not act on namespace ${namespace} (it is scoped to ${principal.namespaces.join(', ')})`, {
    namespace,
  });
}

/** The namespaces a request may see, for list routes: undefined means all of them. */
export function principalNamespaces(request: FastifyRequest): string[] | undefined {
  const principal = requirePrincipal(request);
  return principal.role === 'project' ? [...principal.namespaces] : undefined;
}
