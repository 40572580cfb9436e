export { TokenService, type IssuedToken } from './token-service.js';
export type { IssueTokenRequest } from './issue-request.js';
export { TOKEN_ROLES, NAMESPACE_PATTERN, isTokenRole, type TokenRole, type Principal } from './token-role.js';
export { parseTtl, MAX_TTL_MS } from './parse-ttl.js';
export { MAX_TOKEN_CHARS } from './token-codec.js';
