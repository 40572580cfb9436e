import { NAMESPACE_PATTERN, TOKEN_ROLES } from '../../services/tokens/index.js';

/** JSON schemas of the token routes: validation, serializer and OpenAPI doc at once. */
export const principalSchema = {
  type: 'object',
  required: ['sub', 'role', 'namespaces', 'jti', 'expiresAt'],
  properties: {
    sub: { type: 'string' },
    role: { type: 'string', enum: [...TOKEN_ROLES] },
    namespaces: { type: 'array', items: { type: 'string' } },
    jti: { type: 'string' },
    expiresAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const tokenRecordSchema = {
  type: 'object',
  required: ['jti', 'sub', 'role', 'namespaces', 'issuedAt', 'expiresAt', 'revoked', 'status'],
  properties: {
    jti: { type: 'string' },
    sub: { type: 'string' },
    role: { type: 'string', enum: [...TOKEN_ROLES] },
    namespaces: { type: 'array', items: { type: 'string' } },
    issuedAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time' },
    revoked: { type: 'boolean' },
    status: { type: 'string', enum: ['active', 'expired', 'revoked'] },
  },
} as const;

export const createTokenBody = {
  type: 'object',
  required: ['role'],
  additionalProperties: false,
  properties: {
    role: { type: 'string', enum: [...TOKEN_ROLES] },
    namespaces: { type: 'array', items: { type: 'string', pattern: NAMESPACE_PATTERN.source, maxLength: 128 }, maxItems: 64 },
    ttl: { type: 'string', pattern: '^[0-9]+[smhdw]$', default: '30d', description: 'lifetime: 90s, 15m, 12h, 30d, 2w' },
    sub: { type: 'string', minLength: 1, maxLength: 200, description: 'who the token is for (default: role and namespaces)' },
  },
} as const;

export const jtiParams = {
  type: 'object',
  required: ['jti'],
  properties: { jti: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
} as const;
