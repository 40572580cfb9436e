/** What a token may do; see DESIGN.md "Auth". A project token is scoped to its namespaces. */
export const TOKEN_ROLES = ['admin', 'project', 'shared-reader', 'node'] as const;

export type TokenRole = (typeof TOKEN_ROLES)[number];

export function isTokenRole(value: unknown): value is TokenRole {
  return typeof value === 'string' && (TOKEN_ROLES as readonly string[]).includes(value);
}

/** Who a verified token speaks for. */
export interface Principal {
  sub: string;
  role: TokenRole;
  /** The namespaces of a `project` token; empty for the other roles (they are not namespace-scoped). */
  namespaces: string[];
  jti: string;
  /** RFC 3339. */
  expiresAt: string;
}

/** Namespaces follow the fq-name rules: lower-case `[a-z0-9_]` segments joined by `.`. */
export const NAMESPACE_PATTERN = /^[a-z0-9_]+(\.[a-z0-9_]+)*$/;
