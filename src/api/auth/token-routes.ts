import type { FastifyInstance } from 'fastify';
import type { SchemaTypes } from '../schema-types.js';
import type { TokenRecord } from '../../records.js';
import { parseTtl, type TokenRole, type TokenService } from '../../services/tokens/index.js';
import { errorResponses } from '../routes/schemas.js';
import { requirePrincipal } from './authorize-namespace.js';
import './fastify-augment.js';
import { createTokenBody, jtiParams, tokenRecordSchema } from './token-schemas.js';

export interface TokenRoutesOptions {
  tokens: TokenService;
}

interface CreateTokenBody {
  role: TokenRole;
  namespaces?: string[];
  ttl?: string;
  sub?: string;
}

export type TokenRecordWithStatus = TokenRecord & { status: 'active' | 'expired' | 'revoked' };

/** `POST|GET /v1/tokens`, `DELETE /v1/tokens/{jti}`: admin only. The token text is shown once, at creation. */
export async function tokenRoutes(fastify: FastifyInstance, { tokens }: TokenRoutesOptions): Promise<void> {
  const app = fastify.withTypeProvider<SchemaTypes>();
  app.post(
    '/v1/tokens',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Create a token (the token text is in this response only)',
        tags: ['tokens'],
        body: createTokenBody,
        response: {
          201: { type: 'object', required: ['token', 'record'], properties: { token: { type: 'string' }, record: tokenRecordSchema } },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const namespaces = body.namespaces ?? [];
      const issuer = requirePrincipal(request).sub;
      const sub = body.sub ?? (namespaces.length ? `${body.role}:${namespaces.join(',')}` : body.role);
      const issued = await tokens.issue({ sub, role: body.role, namespaces, ttlMs: parseTtl(body.ttl ?? '30d') });
      request.log.info({ jti: issued.record.jti, role: issued.record.role, issuer }, 'token created');
      return reply.status(201).send({ token: issued.token, record: withStatus(issued.record) });
    },
  );

  app.get(
    '/v1/tokens',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Every token record, newest first (never the token texts)',
        tags: ['tokens'],
        response: { 200: { type: 'object', required: ['tokens'], properties: { tokens: { type: 'array', items: tokenRecordSchema } } }, ...errorResponses },
      },
    },
    async () => ({ tokens: (await tokens.list()).map((r) => withStatus(r)) }),
  );

  app.delete(
    '/v1/tokens/:jti',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Revoke a token (idempotent; takes effect on every request from now on)',
        tags: ['tokens'],
        params: jtiParams,
        response: { 200: tokenRecordSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { jti } = request.params;
      const record = await tokens.revoke(jti);
      request.log.info({ jti, revoker: requirePrincipal(request).sub }, 'token revoked');
      return withStatus(record);
    },
  );
}

export function withStatus(record: TokenRecord, now = Date.now()): TokenRecordWithStatus {
  const status = record.revoked ? 'revoked' : Date.parse(record.expiresAt) <= now ? 'expired' : 'active';
  return { ...record, status };
}
