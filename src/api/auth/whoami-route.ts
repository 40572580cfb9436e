import type { FastifyInstance } from 'fastify';
import { errorResponses } from '../routes/schemas.js';
import { requirePrincipal } from './authorize-namespace.js';
import './fastify-augment.js';
import { principalSchema } from './token-schemas.js';

/** `GET /v1/whoami`: the principal of the caller's token; what `warren login` checks a token with. */
export async function whoamiRoute(app: FastifyInstance): Promise<void> {
  app.get(
    '/v1/whoami',
    {
      config: { role: 'shared-reader' },
      schema: { summary: "The caller's token: subject, role, namespaces, id, expiry", tags: ['tokens'], response: { 200: principalSchema, ...errorResponses } },
    },
    async (request) => requirePrincipal(request),
  );
}
