/** JSON schemas shared by routes (they are the validation, the serializer and the OpenAPI doc). */
export const FQ_PATTERN = '^[a-z0-9_]+(\\.[a-z0-9_]+)+$';

export const fqParam = {
  type: 'object',
  required: ['fq'],
  properties: { fq: { type: 'string', pattern: FQ_PATTERN, maxLength: 128 } },
} as const;

export const fqVersionParams = {
  type: 'object',
  required: ['fq', 'version'],
  properties: { fq: { type: 'string', pattern: FQ_PATTERN, maxLength: 128 }, version: { type: 'string', maxLength: 64 } },
} as const;

export const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object', additionalProperties: true } },
    },
  },
} as const;

export const errorResponses = { '4xx': errorSchema, '5xx': errorSchema } as const;

export const componentVersionSchema = {
  type: 'object',
  properties: {
    fq: { type: 'string' },
    namespace: { type: 'string' },
    name: { type: 'string' },
    version: { type: 'string' },
    manifest: { type: 'object', additionalProperties: true },
    manifestDigest: { type: 'string' },
    module: { type: 'object', properties: { digest: { type: 'string' }, size: { type: 'number' } } },
    extensions: { type: 'array', items: { type: 'object', properties: { fq: { type: 'string' }, version: { type: 'string' }, module: { type: 'string' } } } },
    fileTree: { type: ['string', 'null'] },
    filesSize: { type: 'number' },
    contentDigest: { type: 'string' },
    createdAt: { type: 'string' },
    world: {
      type: 'object',
      description: "a WebAssembly component's WIT world: imports, and exports with their functions' WIT signatures and types (absent for core modules)",
      additionalProperties: true,
    },
  },
} as const;
