import type { FastifySchema, RouteOptions } from 'fastify';

/** What an OpenAPI media type holds for one content type. */
export type MediaDoc = Record<string, { schema: Record<string, unknown> }>;

/**
 * Route schema keys that only document (Fastify neither validates nor serializes them):
 * `documentedBody` is the request body of routes whose body is not parsed by a JSON schema
 * (multipart pushes, stdin bytes); `documentedResponses` adds content types to a response
 * (bytes beside JSON, a zip, a wasm module).
 */
export interface DocumentedSchema {
  documentedBody?: { description?: string; required?: boolean; content: MediaDoc };
  documentedResponses?: Record<string, { description?: string; content: MediaDoc }>;
}

/** `{ type: 'string', format: 'binary' }` under each content type: bytes, for a generated client. */
export function binaryContent(...types: string[]): MediaDoc {
  return Object.fromEntries(types.map((t) => [t, { schema: { type: 'string', format: 'binary' } }]));
}

/**
 * @fastify/swagger's per-route transform for the whole API: every operation gets an
 * `operationId` (unless the route names one), derived from its method and path, so generated
 * clients have stable method names; documented-only bodies and responses are merged in.
 */
export function openapiTransform({ schema, url, route }: { schema: FastifySchema; url: string; route: RouteOptions }): { schema: FastifySchema; url: string } {
  if (!schema || (schema as { hide?: boolean }).hide) return { schema, url };
  const { documentedBody, documentedResponses, ...rest } = schema as FastifySchema & DocumentedSchema & Record<string, unknown>;
  const out: Record<string, unknown> = { ...rest };
  const method = Array.isArray(route.method) ? route.method[0]! : route.method;
  if (out.operationId === undefined) out.operationId = operationIdOf(method, url);
  if (documentedBody) out.body = { content: documentedBody.content, ...(documentedBody.description ? { description: documentedBody.description } : {}) };
  if (documentedResponses) {
    const responses: Record<string, unknown> = { ...(rest.response as Record<string, unknown> | undefined) };
    for (const [status, doc] of Object.entries(documentedResponses)) {
      const existing = responses[status] as Record<string, unknown> | undefined;
      // A JSON schema already there (the serializer's) stays, as the application/json content.
      const json = existing && !('content' in existing) ? { 'application/json': { schema: existing } } : {};
      responses[status] = { description: doc.description ?? 'OK', content: { ...json, ...doc.content } };
    }
    out.response = responses;
  }
  return { schema: out as FastifySchema, url };
}

/** `POST /v1/workers/:id/invoke` → `postWorkersByIdInvoke`; `GET /healthz` → `getHealthz`. */
export function operationIdOf(method: string, url: string): string {
  const words = url
    .split('/')
    .filter((s) => s !== '' && s !== 'v1')
    .map((s) => (s.startsWith(':') ? `by-${s.slice(1)}` : s.startsWith('{') ? `by-${s.slice(1, -1)}` : s));
  const camel = [method.toLowerCase(), ...words]
    .join('-')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1)))
    .join('');
  return camel;
}
