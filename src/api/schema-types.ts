import type { FastifyTypeProvider } from 'fastify';
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
