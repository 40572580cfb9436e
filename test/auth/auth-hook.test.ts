import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertEveryRouteDeclaresRole, declaredRoutes } from '../../src/api/auth/index.js';
import { buildAuthTestApp, authTestCases } from './auth-test-app.js';
import { issueMatrixTokens, injectSender, runRouteMatrix, expectedOutcome } from './route-matrix.js';
import { openTokenFixture } from './token-fixtures.js';

test('role × token matrix over a test app: one route per role plus namespace checks', async () => {
  const f = await openTokenFixture();
  const app = await buildAuthTestApp(f.tokens);
  try {
    const tokens = await issueMatrixTokens(f.tokens, await f.otherServer(), 'sh.alpha', 'sh.beta');
    const cases = authTestCases('sh.alpha', 'sh.beta').map((c) => ({ ...c, okStatus: 200 }));
    const { checked, failures } = await runRouteMatrix({ send: injectSender(app), tokens, cases, nsA: 'sh.alpha', nsB: 'sh.beta' });
    assert.deepEqual(failures, []);
    assert.equal(checked, cases.length * 5 * 6);
  } finally {
    await app.close();
    await f.close();
  }
});

test('the matrix expectations themselves: spot checks against the design', () => {
  const ns = { nsA: 'a', nsB: 'b' };
  const route = (role: Parameters<typeof expectedOutcome>[0]['role'], extra = {}) => ({ method: 'GET', url: '/x', role, ...extra });
  assert.deepEqual(expectedOutcome(route('admin'), 'projectA', 'valid', ns), { status: 403, code: 'E_FORBIDDEN' });
  assert.deepEqual(expectedOutcome(route('project'), 'node', 'valid', ns), { status: 'pass' });
  assert.deepEqual(expectedOutcome(route('project'), 'sharedReader', 'valid', ns), { status: 403, code: 'E_FORBIDDEN' });
  assert.deepEqual(expectedOutcome(route('shared-reader', { namespace: 'b', hideAs404: true }), 'projectA', 'valid', ns), { status: 404, code: 'E_NOT_FOUND' });
  assert.deepEqual(expectedOutcome(route('project', { namespace: 'b' }), 'projectA', 'valid', ns), { status: 403, code: 'E_FORBIDDEN' });
  assert.deepEqual(expectedOutcome(route('node'), 'sharedReader', 'valid', ns), { status: 403, code: 'E_FORBIDDEN' });
  assert.deepEqual(expectedOutcome(route('dev'), 'admin', 'revoked', ns), { status: 401, code: 'E_TOKEN_REVOKED' });
  assert.deepEqual(expectedOutcome(route('public'), 'admin', 'forged', ns), { status: 'pass' });
});

test('a route without a declared role: 500 at request time, and assertEveryRouteDeclaresRole fails naming it', async () => {
  const f = await openTokenFixture();
  const good = await buildAuthTestApp(f.tokens);
  const bad = await buildAuthTestApp(f.tokens, { undeclaredRoute: true });
  try {
    assert.doesNotThrow(() => assertEveryRouteDeclaresRole(good));
    assert.throws(() => assertEveryRouteDeclaresRole(bad), /GET \/forgot-role/);
    assert.deepEqual(
      declaredRoutes(bad).filter((r) => r.role === undefined).map((r) => `${r.method} ${r.url}`),
      ['GET /forgot-role', 'HEAD /forgot-role'],
    );
    const { token } = await f.tokens.issue({ sub: 'root', role: 'admin', ttlMs: 60_000 });
    const res = await bad.inject({ method: 'GET', url: '/forgot-role', headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.statusCode, 500);
    assert.match(res.json().error.message, /declares no role/);
  } finally {
    await good.close();
    await bad.close();
    await f.close();
  }
});

test('unknown URLs are 404 without a token; public routes ignore a bad token; 401s carry WWW-Authenticate', async () => {
  const f = await openTokenFixture();
  const app = await buildAuthTestApp(f.tokens);
  try {
    assert.equal((await app.inject({ method: 'GET', url: '/nope' })).statusCode, 404);
    assert.equal((await app.inject({ method: 'GET', url: '/healthz', headers: { authorization: 'Bearer junk' } })).statusCode, 200);
    const res = await app.inject({ method: 'GET', url: '/admin-only' });
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="warren"');
    assert.deepEqual(res.json(), { error: { code: 'E_UNAUTHORIZED', message: 'no token given: send Authorization: Bearer <token>', details: {} } });
    const basic = await app.inject({ method: 'GET', url: '/admin-only', headers: { authorization: 'Basic YTpi' } });
    assert.equal(basic.json().error.code, 'E_UNAUTHORIZED');
    const huge = await app.inject({ method: 'GET', url: '/admin-only', headers: { authorization: `Bearer v4.public.${'A'.repeat(5000)}` } });
    assert.equal(huge.statusCode, 401);
    assert.equal(huge.json().error.code, 'E_TOKEN_INVALID');
    const { token } = await f.tokens.issue({ sub: 'p', role: 'project', namespaces: ['sh.a'], ttlMs: 60_000 });
    const forbidden = await app.inject({ method: 'GET', url: '/admin-only', headers: { authorization: `bearer ${token}` } });
    assert.equal(forbidden.statusCode, 403);
    assert.deepEqual(forbidden.json().error.details, { role: 'project', needs: 'admin' });
    const hidden = await app.inject({ method: 'GET', url: '/ns/sh.b/workers/w1', headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual([hidden.statusCode, hidden.json().error.message], [404, 'no worker w1']);
  } finally {
    await app.close();
    await f.close();
  }
});

test('the OpenAPI document carries each route role and the bearer requirement', async () => {
  const f = await openTokenFixture();
  const app = await buildAuthTestApp(f.tokens);
  try {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { security?: unknown; 'x-warren-role'?: string; summary?: string }>>;
    };
    assert.deepEqual(doc.paths['/admin-only'].get.security, [{ bearer: [] }]);
    assert.equal(doc.paths['/admin-only'].get['x-warren-role'], 'admin');
    assert.equal(doc.paths['/admin-only'].get.summary, 'admin', 'the route schema is kept');
    assert.equal(doc.paths['/healthz'].get['x-warren-role'], 'public');
    assert.equal(doc.paths['/healthz'].get.security, undefined);
    assert.equal(doc.paths['/v1/tokens'].post['x-warren-role'], 'admin');
    assert.equal(doc.paths['/v1/whoami'].get['x-warren-role'], 'shared-reader');
    assert.equal(doc.paths['/ns/{ns}/jobs'].get['x-warren-role'], 'project');
  } finally {
    await app.close();
    await f.close();
  }
});
