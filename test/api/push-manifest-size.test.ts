import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readAll } from '../../src/cli/api-client.js';
import { isWarrenError } from '../../src/errors.js';
import { MANIFEST_LIMITS } from '../../src/manifest/manifest-limits.js';
import { parseManifest } from '../../src/manifest/parse-manifest.js';
import { HeldPush } from '../support/held-push.js';
import { startTestServer, type TestServer } from '../support/start-server.js';

/**
 * The manifest had no size limit as a file part: 100 MB grew the server's RSS by 300 MB before a
 * 400, and 600 MB gave a 500 (`Cannot create a string longer than ...`). Now every form of the
 * part is counted as it streams in and refused at 1 MiB with 413 E_MANIFEST_TOO_LARGE.
 */
let server: TestServer;
const MiB = 2 ** 20;
const HEAD = 'name = "big"\nnamespace = "sh.big"\nversion = "1.0.0"\nbinary = "m.wasm"\n';

before(async () => {
  server = await startTestServer();
});
after(async () => {
  HeldPush.abortAll();
  await server.close();
});

function assertTooLarge(res: { status: number; body: Record<string, unknown> }): void {
  assert.equal(res.status, 413, JSON.stringify(res.body));
  const error = res.body.error as { code: string; details: Record<string, unknown> };
  assert.equal(error.code, 'E_MANIFEST_TOO_LARGE');
  assert.equal(error.details.limit, MANIFEST_LIMITS.maxBytes);
}

test('a 100 MB manifest file part is refused with 413 once past 1 MiB, while it is still being sent, and is never buffered', { timeout: 600_000 }, async () => {
  const total = 100 * MiB;
  const chunk = Buffer.alloc(64 * 1024, '# a comment line that goes on and on\n');
  const rssBefore = process.memoryUsage().rss;
  const push = new HeldPush(server.url, server.adminToken);
  push.fileHead('manifest', 'warren.toml');
  await push.write(HEAD);
  let answered = false;
  void push.response.then(() => (answered = true), () => (answered = true));
  let sent = 0;
  while (!answered && sent < total) {
    if (!(await push.write(chunk))) break;
    sent += chunk.length;
  }
  const res = await push.response;
  assertTooLarge(res);
  assert.ok(sent < total, 'the server answered before the upload ended');
  push.abort();
  // The server (in this process) held no copy of the part: RSS grew by far less than it.
  const grown = process.memoryUsage().rss - rssBefore;
  assert.ok(grown < 48 * MiB, `RSS grew by ${Math.round(grown / MiB)} MiB`);
  const health = await server.client.raw('GET', '/healthz');
  assert.equal(health.status, 200);
  await readAll(health.body);
});

test('a manifest field over 1 MiB is 413 E_MANIFEST_TOO_LARGE; one just under it is read (and judged as TOML)', { timeout: 600_000 }, async () => {
  const over = new HeldPush(server.url, server.adminToken);
  over.field('manifest', HEAD + '#'.repeat(MANIFEST_LIMITS.maxBytes));
  over.fileHead('module', 'm.wasm');
  assertTooLarge(await over.response);
  over.abort();
  // At the limit the size is fine: the manifest is judged for what it says (here: no version).
  const unversioned = HEAD.replace('version = "1.0.0"\n', '');
  const under = new HeldPush(server.url, server.adminToken);
  under.field('manifest', unversioned + '#'.repeat(MANIFEST_LIMITS.maxBytes - unversioned.length - 1) + '\n');
  under.fileHead('module', 'm.wasm');
  const res = await under.response;
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.equal((res.body.error as { code: string }).code, 'E_MANIFEST_INVALID');
  under.abort();
});

test('the CLI refuses a manifest over 1 MiB with the same code before sending it', () => {
  assert.throws(() => parseManifest(HEAD + '#'.repeat(MANIFEST_LIMITS.maxBytes)), (e) => isWarrenError(e, 'E_MANIFEST_TOO_LARGE'));
  assert.equal(parseManifest(HEAD + '# é\n').name, 'big');
});
