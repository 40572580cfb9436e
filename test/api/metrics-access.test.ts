import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp } from '../../src/api/build-app.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { ServeChild } from '../support/serve-child.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * Issue 21 point 13: `/metrics` (every namespace's jobs and calls) needs a token of a role not
 * scoped to namespaces, unless `serve --metrics-public`; the process metrics are named
 * `warren_process_*`, not `warren_process_process_*`.
 */
let server: TestServer;

before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.close();
});

async function scrape(token: string | undefined, url = server.url): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(`${url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

const issue = async (role: 'project' | 'shared-reader' | 'node', namespaces: string[] = []) =>
  (await server.node.tokens.issue({ sub: `metrics-${role}`, role, namespaces, ttlMs: 3_600_000 })).token;

test('no token is 401, a project token 403; admin, shared-reader and node tokens read the metrics', async () => {
  const anonymous = await scrape(undefined);
  assert.equal(anonymous.status, 401);
  assert.equal(JSON.parse(anonymous.text).error.code, 'E_UNAUTHORIZED');
  const project = await scrape(await issue('project', ['sh.m']));
  assert.equal(project.status, 403);
  assert.equal(JSON.parse(project.text).error.code, 'E_FORBIDDEN');
  for (const token of [server.adminToken, await issue('shared-reader'), await issue('node')]) {
    const ok = await scrape(token);
    assert.equal(ok.status, 200);
    assert.match(ok.type ?? '', /^text\/plain/);
    assert.match(ok.text, /^warren_jobs_queued /m);
  }
});

test('process metrics have one prefix: warren_process_cpu_seconds_total, never warren_process_process_', async () => {
  const { text } = await scrape(server.adminToken);
  assert.match(text, /^warren_process_cpu_seconds_total /m);
  assert.match(text, /^warren_nodejs_eventloop_lag_seconds /m);
  assert.doesNotMatch(text, /warren_process_process_|warren_process_nodejs_/);
});

test('an app built with metricsPublic serves /metrics without a token, and its other routes still need one', async () => {
  const app = await buildApp({ node: server.node, metricsPublic: true });
  try {
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /^warren_process_cpu_seconds_total /m);
    assert.equal((await app.inject({ method: 'GET', url: '/v1/components' })).statusCode, 401);
  } finally {
    await app.close();
  }
});

test('warren serve --metrics-public: a scraper without credentials gets the metrics', { timeout: 60_000 }, async () => {
  const data = makeTempDir('warren-metrics-public-');
  const child = await ServeChild.start(data.path, { args: ['--metrics-public'] });
  try {
    const res = await scrape(undefined, child.url);
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /^warren_process_cpu_seconds_total /m);
  } finally {
    await child.kill();
    data.dispose();
  }
});
