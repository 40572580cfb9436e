import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readAll } from '../../src/cli/api-client.js';
import { MANIFEST_LIMITS } from '../../src/manifest/manifest-limits.js';
import { parseManifest } from '../../src/manifest/parse-manifest.js';
import { HeldPush } from '../support/held-push.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { fixturePath } from '../support/temp-dir.js';

/**
 * A 30,000-entry [[files]] list once held the event loop for 17.7 s (every entry was compared
 * with every other), and any project token could send one: the body was read and parsed before
 * the namespace was checked. Nothing here measures time: a push whose body is never finished
 * must be answered from its manifest alone, and /healthz must answer while it is open (the
 * timeouts only turn a server that waits for the whole body into a failure).
 */
let server: TestServer;
let otherTenant: string;
const MODULE = readFileSync(fixturePath('job_loop.wasm'));

before(async () => {
  server = await startTestServer();
  otherTenant = (await server.node.tokens.issue({ sub: 'other', role: 'project', namespaces: ['sh.other'], ttlMs: 3600_000 })).token;
});
after(async () => {
  HeldPush.abortAll();
  await server.close();
});

/** `files = [{...}, ...]` with `count` entries: ~29 bytes each, so 30,000 stay under the 1 MiB manifest limit. */
function manifestWithFiles(namespace: string, count: number): string {
  const files = Array.from({ length: count }, (_, i) => `{source="s",target="/f/${i}"}`).join(',');
  return `name = "big"\nnamespace = "${namespace}"\nversion = "1.0.0"\nbinary = "m.wasm"\nfiles = [${files}]\n`;
}

async function healthz(): Promise<number> {
  const res = await server.client.raw('GET', '/healthz');
  await readAll(res.body);
  return res.status;
}

test('/healthz answers while a 30,000-entry manifest is refused (E_MANIFEST_TOO_MANY_ENTRIES), from its manifest part alone', { timeout: 300_000 }, async () => {
  const text = manifestWithFiles('sh.big', 30_000);
  assert.ok(Buffer.byteLength(text) < MANIFEST_LIMITS.maxBytes, 'the entry count is what is refused, not the size');
  const push = new HeldPush(server.url, server.adminToken);
  push.field('manifest', text);
  // The module part begins and the body never ends: the push stays in flight.
  push.fileHead('module', 'm.wasm');
  await push.write(MODULE);
  assert.equal(await healthz(), 200);
  const res = await push.response;
  assert.equal(res.status, 413);
  const error = res.body.error as { code: string; details: Record<string, unknown> };
  assert.equal(error.code, 'E_MANIFEST_TOO_MANY_ENTRIES');
  assert.deepEqual(error.details, { field: 'files', count: 30_000, limit: MANIFEST_LIMITS.maxFiles });
  push.abort();
  assert.equal(await healthz(), 200);
  assert.equal((await server.client.json<{ components: unknown[] }>('GET', '/v1/components')).components.length, 0);
});

test("another tenant's push is refused before its body is read (namespace in the query) or right after the manifest's TOML (before any rule)", { timeout: 300_000 }, async () => {
  // Not a byte of body: the answer can only come from the headers.
  const early = new HeldPush(server.url, otherTenant, '?namespace=sh.big');
  const refused = await early.response;
  assert.equal(refused.status, 403);
  assert.equal((refused.body.error as { code: string }).code, 'E_FORBIDDEN');
  early.abort();
  // Without the query: the manifest part decides, before its 30,000 entries are counted or checked.
  const late = new HeldPush(server.url, otherTenant);
  late.field('manifest', manifestWithFiles('sh.big', 30_000));
  late.fileHead('module', 'm.wasm');
  const res = await late.response;
  assert.equal(res.status, 403);
  assert.equal((res.body.error as { code: string }).code, 'E_FORBIDDEN');
  late.abort();
  assert.equal(await healthz(), 200);
});

test('a manifest at the entry limit is valid, and the other parts must follow the manifest', { timeout: 300_000 }, async () => {
  assert.equal(parseManifest(manifestWithFiles('sh.big', MANIFEST_LIMITS.maxFiles)).files.length, MANIFEST_LIMITS.maxFiles);
  const push = new HeldPush(server.url, server.adminToken);
  push.fileHead('module', 'm.wasm');
  await push.write(MODULE);
  const res = await push.response;
  assert.equal(res.status, 400);
  assert.match((res.body.error as { message: string }).message, /manifest.*first/);
  push.abort();
});
