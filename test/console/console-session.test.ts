import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { repoRoot } from '../support/temp-dir.js';
import { pushDir } from '../workers/worker-fixtures.js';

let server: TestServer;

before(async () => {
  server = await startTestServer();
  await pushDir(server.client, join(repoRoot, 'examples/counter'));
});
after(async () => {
  await server.close();
});

/** A real HTTP request; redirects are not followed, so the login answer can be read. */
function call(method: string, path: string, init: { cookie?: string; csrf?: string; bearer?: string; json?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (init.cookie) headers.cookie = init.cookie;
  if (init.csrf) headers['x-warren-csrf'] = init.csrf;
  if (init.bearer) headers.authorization = `Bearer ${init.bearer}`;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  return fetch(new URL(path, server.url), { method, headers, redirect: 'manual', body: init.json === undefined ? undefined : JSON.stringify(init.json) });
}

async function linkFor(token: string): Promise<string> {
  const res = await call('POST', '/v1/console/links', { bearer: token });
  assert.equal(res.status, 201);
  const { path } = (await res.json()) as { path: string };
  assert.match(path, /^\/ui\/login\?token=[A-Za-z0-9_-]{43}$/);
  return path;
}

/** Logs in through a one-time link: the session cookie and the CSRF secret. */
async function login(token: string): Promise<{ cookie: string; csrf: string }> {
  const res = await call('GET', await linkFor(token));
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/ui/');
  const setCookie = res.headers.get('set-cookie') ?? '';
  assert.match(setCookie, /^warren_session=[A-Za-z0-9_-]+;/);
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Strict/);
  assert.match(setCookie, /Path=\//);
  const cookie = setCookie.split(';')[0]!;
  const session = await call('GET', '/ui/session', { cookie });
  assert.equal(session.status, 200);
  const body = (await session.json()) as { csrf: string; principal: { role: string } };
  return { cookie, csrf: body.csrf };
}

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

test('a one-time link logs in once; the cookie then stands for the token, and writes need the CSRF header', async () => {
  const path = await linkFor(server.adminToken);
  const first = await call('GET', path);
  assert.equal(first.status, 303);
  const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0]!;
  const again = await call('GET', path);
  assert.equal(again.status, 303);
  assert.equal(again.headers.get('location'), '/ui/login?error=E_TOKEN_INVALID', 'the link works once');
  assert.equal(again.headers.get('set-cookie'), null);

  const listed = await call('GET', '/v1/workers', { cookie });
  assert.equal(listed.status, 200);
  const { csrf } = (await (await call('GET', '/ui/session', { cookie })).json()) as { csrf: string };

  const forged = await call('POST', '/v1/workers', { cookie, json: { component: 'sh.warren.counter', name: 'no-csrf' } });
  assert.equal(forged.status, 403);
  assert.equal(await errorCode(forged), 'E_FORBIDDEN');
  const wrong = await call('POST', '/v1/workers', { cookie, csrf: csrf.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')), json: { component: 'sh.warren.counter', name: 'bad-csrf' } });
  assert.equal(wrong.status, 403);
  const names = ((await (await call('GET', '/v1/workers', { cookie })).json()) as { workers: { name: string }[] }).workers.map((w) => w.name);
  assert.deepEqual(names, [], 'refused writes created nothing');

  const created = await call('POST', '/v1/workers', { cookie, csrf, json: { component: 'sh.warren.counter', name: 'with-csrf' } });
  assert.equal(created.status, 201, await created.clone().text());
  const w = (await created.json()) as { id: string };
  const invoked = await call('POST', `/v1/workers/${w.id}/invoke`, { cookie, csrf, json: { export: 'increment', args: [] } });
  assert.equal(invoked.status, 200);
  assert.deepEqual(((await invoked.json()) as { returns: unknown }).returns, [1]);
});

test('without a session no data is served, and the console pages carry none', async () => {
  for (const path of ['/v1/workers', '/v1/components', '/v1/whoami']) {
    const res = await call('GET', path);
    assert.equal(res.status, 401, path);
    assert.equal(await errorCode(res), 'E_UNAUTHORIZED');
  }
  const stale = await call('GET', '/v1/workers', { cookie: 'warren_session=not-a-session' });
  assert.equal(stale.status, 401);
  assert.match(((await stale.json()) as { error: { message: string } }).error.message, /session has ended/);
  assert.deepEqual(await (await call('GET', '/ui/session')).json(), { loggedIn: false });

  const page = await call('GET', '/ui/components/sh.warren.counter');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  const html = await page.text();
  assert.match(html, /<div id="app"><\/div>/);
  const asset = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(asset, 'the page loads its built script from /ui/assets');
  const script = await call('GET', asset);
  assert.equal(script.status, 200);
  assert.match(script.headers.get('cache-control') ?? '', /immutable/);
  assert.equal((await call('GET', '/ui/assets/missing.js')).status, 404);
  assert.equal((await call('GET', '/ui/..%2f..%2fpackage.json')).status, 404);
  assert.equal((await call('GET', '/ui')).headers.get('location'), '/ui/');
});

test("a project token's session sees its namespaces only, as the API decides", async () => {
  const project = (await server.node.tokens.issue({ sub: 'serval-dev', role: 'project', namespaces: ['sh.serval'], ttlMs: 600_000 })).token;
  const { cookie, csrf } = await login(project);
  const components = (await (await call('GET', '/v1/components', { cookie })).json()) as { components: { fq: string }[] };
  assert.deepEqual(components.components, [], 'sh.warren.counter is not in its namespaces');
  const create = await call('POST', '/v1/workers', { cookie, csrf, json: { component: 'sh.warren.counter', name: 'not-mine' } });
  assert.equal(create.status, 404);
  assert.equal(await errorCode(create), 'E_NOT_FOUND');
  const job = await call('POST', '/v1/jobs/sh.warren.counter/run', { cookie, csrf });
  assert.equal(job.status, 403);
  assert.equal(await errorCode(job), 'E_FORBIDDEN');
  assert.equal((await call('GET', '/v1/tokens', { cookie })).status, 403, 'admin routes stay admin');
});

test('a pasted token logs in; logout and revoking the token both end the session', async () => {
  const issued = await server.node.tokens.issue({ sub: 'reader', role: 'shared-reader', ttlMs: 600_000 });
  const bad = await call('POST', '/ui/session', { json: { token: 'v4.public.nope' } });
  assert.equal(bad.status, 401);
  assert.equal(await errorCode(bad), 'E_TOKEN_INVALID');

  const pasted = await call('POST', '/ui/session', { json: { token: issued.token } });
  assert.equal(pasted.status, 200);
  const cookie = (pasted.headers.get('set-cookie') ?? '').split(';')[0]!;
  const { csrf, principal } = (await pasted.json()) as { csrf: string; principal: { role: string } };
  assert.equal(principal.role, 'shared-reader');
  assert.equal((await call('GET', '/v1/components', { cookie })).status, 200);
  const write = await call('POST', '/v1/workers', { cookie, csrf, json: { component: 'sh.warren.counter', name: 'reader-write' } });
  assert.equal(write.status, 403, 'shared-reader is read-only');

  assert.equal((await call('DELETE', '/ui/session', { cookie })).status, 403, 'logout needs the CSRF header too');
  const out = await call('DELETE', '/ui/session', { cookie, csrf });
  assert.equal(out.status, 204);
  assert.match(out.headers.get('set-cookie') ?? '', /warren_session=;.*Max-Age=0/);
  assert.equal((await call('GET', '/v1/components', { cookie })).status, 401);

  const again = await login(issued.token);
  assert.equal((await call('GET', '/v1/components', { cookie: again.cookie })).status, 200);
  await server.node.tokens.revoke(issued.record.jti);
  const revoked = await call('GET', '/v1/components', { cookie: again.cookie });
  assert.equal(revoked.status, 401);
  assert.equal(await errorCode(revoked), 'E_TOKEN_REVOKED');
  const ended = (await (await call('GET', '/ui/session', { cookie: again.cookie })).json()) as { loggedIn: boolean; ended: { code: string } };
  assert.deepEqual([ended.loggedIn, ended.ended.code], [false, 'E_TOKEN_REVOKED']);
});

test('a bearer header wins over a session cookie', async () => {
  const project = (await server.node.tokens.issue({ sub: 'p', role: 'project', namespaces: ['sh.serval'], ttlMs: 600_000 })).token;
  const { cookie } = await login(server.adminToken);
  const res = await call('GET', '/v1/tokens', { cookie, bearer: project });
  assert.equal(res.status, 403, 'the project bearer token decides, not the admin session');
});
