import { WarrenError } from '../../errors.js';
import { checkTtlMs } from './parse-ttl.js';
import { NAMESPACE_PATTERN, isTokenRole, type TokenRole } from './token-role.js';

export interface IssueTokenRequest {
  /** Who the token is for: a person, a CI job, a node id. Shown in `warren token ls`. */
  sub: string;
  role: TokenRole;
  /** Required (one or more) for `project` tokens; must be absent or empty for the other roles. */
  namespaces?: string[];
  ttlMs: number;
}

/** Refuses a malformed request with E_BAD_REQUEST; returns it normalized (namespaces sorted, unique). */
export function checkIssueRequest(req: IssueTokenRequest): Required<IssueTokenRequest> {
  if (typeof req.sub !== 'string' || req.sub.length === 0 || req.sub.length > 200 || /[\u0000-\u001f]/.test(req.sub)) {
    throw new WarrenError('E_BAD_REQUEST', 'token subject must be 1 to 200 printable characters', { sub: req.sub });
  }
  if (!isTokenRole(req.role)) {
    throw new WarrenError('E_BAD_REQUEST', `unknown token role ${JSON.stringify(req.role)}: use admin, project, shared-reader or node`, { role: req.role });
  }
  const namespaces = [...new Set(req.namespaces ?? [])].sort();
  for (const ns of namespaces) {
    if (typeof ns !== 'string' || !NAMESPACE_PATTERN.test(ns)) {
      throw new WarrenError('E_BAD_REQUEST', `invalid namespace ${JSON.stringify(ns)}: lower-case [a-z0-9_] segments joined by '.'`, { namespace: ns });
    }
  }
  if (req.role === 'project' && namespaces.length === 0) {
    throw new WarrenError('E_BAD_REQUEST', 'a project token needs at least one namespace (--namespace)');
  }
  if (req.role !== 'project' && namespaces.length > 0) {
    throw new WarrenError('E_BAD_REQUEST', `a ${req.role} token is not namespace-scoped; namespaces apply to project tokens only`, { role: req.role });
  }
  checkTtlMs(req.ttlMs);
  return { sub: req.sub, role: req.role, namespaces, ttlMs: req.ttlMs };
}
