import type { FastifyRequest, FastifyTypeProvider } from 'fastify';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

/**
 * A Fastify type provider over json-schema-to-ts for what a route reads: `request.params`,
 * `query`, `body` and `headers` are typed by the route's `as const` schemas (no casts in the
 * handlers). Replies are not typed by the response schemas: several routes answer with a stream
 * or bytes, which the JSON schemas of their errors would refuse.
 */
export interface SchemaTypes extends FastifyTypeProvider {
  validator: this['schema'] extends JSONSchema ? FromSchema<this['schema']> : unknown;
  serializer: unknown;
}

/**
 * Checks a value the route parsed itself (a body that is JSON or bytes, decided per request)
 * with the app's own validator, against a schema the route also documents; `T` is
 * `FromSchema<typeof schema>` at the call.
 */
export function matchesSchema<T>(request: FastifyRequest, schema: JSONSchema & object, value: unknown): value is T {
  return request.validateInput(value, schema as Record<string, unknown>);
}
