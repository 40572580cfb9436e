import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import SwaggerParser from '@apidevtools/swagger-parser';
import { startTestServer, type TestServer } from '../support/start-server.js';

/**
 * Issue 21 point 12: /openapi.json is complete enough for a generated client. It is validated
 * by a maintained OpenAPI validator (@apidevtools/swagger-parser: the OpenAPI 3 schema and
 * its semantic rules), and checked for what generators need: an operationId everywhere, request
 * bodies of the routes that take one, 2xx responses with their content, no ignored parameters.
 */
type Operation = {
  operationId?: string;
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
};
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> };

let server: TestServer;
let doc: Doc;

before(async () => {
  server = await startTestServer();
  doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as Doc;
});
after(async () => {
  await server.close();
});

const op = (path: string, method: string): Operation => {
  const found = doc.paths[path]?.[method];
  assert.ok(found, `${method.toUpperCase()} ${path} is documented`);
  return found;
};
const operations = () => Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, o]) => ({ path, method, o })));

test('the document validates as OpenAPI 3 (swagger-parser)', async () => {
  assert.match(doc.openapi, /^3\./);
  await SwaggerParser.validate(structuredClone(doc) as never);
});

test('every operation has a unique operationId and a 2xx response', () => {
  const ids = operations().map(({ o }) => o.operationId);
  assert.ok(ids.length >= 35, `${ids.length} operations`);
  assert.deepEqual(ids.filter((id) => !id), [], 'operations without operationId');
  assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
  const without2xx = operations().filter(({ o }) => !Object.keys(o.responses).some((s) => s.startsWith('2')));
  assert.deepEqual(without2xx.map(({ method, path }) => `${method} ${path}`), []);
});

test('request bodies: the multipart push, the job run (stdin) and invoke (JSON or stdin)', () => {
  const push = op('/v1/components', 'post').requestBody!.content['multipart/form-data']!.schema as { properties: Record<string, { format?: string }>; required: string[] };
  assert.deepEqual(Object.keys(push.properties).sort(), ['files', 'manifest', 'module']);
  assert.equal(push.properties.module!.format, 'binary');
  assert.deepEqual(push.required, ['manifest', 'module']);
  assert.ok(op('/v1/jobs/{fq}/run', 'post').requestBody!.content['application/octet-stream']);
  const invoke = op('/v1/workers/{id}/invoke', 'post').requestBody!.content;
  assert.deepEqual(Object.keys(invoke).sort(), ['application/json', 'application/octet-stream']);
  const call = invoke['application/json']!.schema as { properties: Record<string, unknown>; anyOf: { required: string[] }[] };
  assert.ok(call.properties.export && call.properties.args);
  assert.deepEqual(call.anyOf.map((a) => a.required), [['export'], ['function']]);
});

test('2xx content: invoke, file contents, archive, blobs, module, admin and metrics', () => {
  const content = (path: string, method: string) => op(path, method).responses['200']?.content ?? {};
  const invoke = content('/v1/workers/{id}/invoke', 'post');
  assert.ok((invoke['application/json']!.schema as { properties: Record<string, unknown> }).properties.returns);
  assert.equal((invoke['application/octet-stream']!.schema as { format: string }).format, 'binary');
  assert.ok(content('/v1/workers/{id}/file-contents', 'get')['application/octet-stream']);
  assert.ok(content('/v1/workers/{id}/archive', 'get')['application/zip']);
  assert.ok(content('/v1/blobs/{integrity}', 'get')['application/octet-stream']);
  assert.ok(content('/v1/components/{fq}/versions/{version}/module', 'get')['application/wasm']);
  assert.ok(content('/metrics', 'get')['text/plain']);
  for (const [path, method] of [['/v1/admin/gc', 'post'], ['/v1/admin/verify', 'post'], ['/v1/admin/artifacts', 'get'], ['/v1/admin/precompile', 'post']] as const) {
    const schema = content(path, method)['application/json']?.schema as { properties?: object } | undefined;
    assert.ok(schema?.properties, `${method} ${path} has a 200 schema`);
  }
});

test('recursive is a parameter only where it is read (the file listing)', () => {
  const params = (path: string) => (op(path, 'get').parameters ?? []).map((p) => p.name);
  assert.ok(params('/v1/workers/{id}/files').includes('recursive'));
  assert.ok(!params('/v1/workers/{id}/file-contents').includes('recursive'));
  assert.ok(!params('/v1/workers/{id}/archive').includes('recursive'));
});
