import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient, readAll } from '../../src/cli/api-client.js';
import type { WorkerRecord } from '../../src/records.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { call, createWorker, failure, pushTestComponent } from './worker-fixtures.js';

let server: TestServer;
const work = makeTempDir('warren-workers-life-');
const spec = {
  files: { 'static/greeting.txt': 'hi\n', 'state/count.txt': '' },
  modes: { '/state/count.txt': 'read-write' as const },
};

before(async () => {
  server = await startTestServer();
  await pushTestComponent(server.client, work.path, 'life', 'app', '1.0.0', spec);
  await pushTestComponent(server.client, work.path, 'life', 'app', '1.1.0', spec);
  await pushTestComponent(server.client, work.path, 'other', 'app', '1.0.0', spec);
  // The timeout is what its test is about, but it also bounds that worker's other calls (start,
  // increment): long enough that a machine stalled for a second or two does not trip those.
  await pushTestComponent(server.client, work.path, 'life', 'slow', '1.0.0', { ...spec, limits: { timeout: '5s' } });
  await pushTestComponent(server.client, work.path, 'life', 'echo', '1.0.0', { wasm: 'worker_echo.wasm' });
});
after(async () => {
  await server.close();
  work.dispose();
});

const list = (query: string, client = server.client) => client.json<{ workers: WorkerRecord[]; cursor: string | null }>('GET', `/v1/workers?${query}`);

test('create validates the name and refuses a second worker of the same name in the namespace', async () => {
  const c = server.client;
  const w = await createWorker(c, 'life.app', 'unique-1', { env: { REGION: 'eu' }, args: ['x'] });
  assert.match(w.id, /^w_[0-9a-z]{18}$/);
  assert.deepEqual([w.namespace, w.component, w.version, w.status, w.env.REGION, w.args[0]], ['life', 'life.app', '1.1.0', 'idle', 'eu', 'x']);
  assert.equal((await failure(createWorker(c, 'life.app', 'unique-1'))).code, 'E_ALREADY_EXISTS');
  // Another namespace may use the same name.
  await createWorker(c, 'other.app', 'unique-1');
  for (const bad of ['', 'UPPER', '-lead', 'trail-', 'a_b', 'x'.repeat(64), '../x']) {
    const f = await failure(createWorker(c, 'life.app', bad));
    assert.equal(f.code, 'E_BAD_REQUEST', bad);
  }
  assert.equal((await failure(createWorker(c, 'life.nope', 'n1'))).code, 'E_NOT_FOUND');
  assert.equal((await failure(createWorker(c, 'life.app', 'n2', { version: '7.0.0' }))).code, 'E_NOT_FOUND');
});

test('two concurrent creates of one name: exactly one wins, the loser leaves no directory', async () => {
  const results = await Promise.allSettled(Array.from({ length: 6 }, () => createWorker(server.client, 'life.app', 'race')));
  const won = results.filter((r): r is PromiseFulfilledResult<WorkerRecord> => r.status === 'fulfilled');
  assert.equal(won.length, 1);
  for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as { code: string }).code, 'E_ALREADY_EXISTS');
  const { workers } = await list(`filter=${encodeURIComponent('name == race')}`);
  assert.deepEqual(workers.map((w) => w.id), [won[0].value.id]);
  const { readdirSync } = await import('node:fs');
  const dirs = readdirSync(join(server.dataDir, 'workers'));
  const records = (await server.node.ctx.ports.registry.list<WorkerRecord>('worker/')).map((e) => e.value.id);
  assert.deepEqual(dirs.sort(), records.sort(), 'every worker dir has a record');
});

test('20 concurrent invocations of one worker are serialized: 1..20 exactly once', async () => {
  const w = await createWorker(server.client, 'life.app', 'busy');
  const values = await Promise.all(Array.from({ length: 20 }, () => call(server.client, w.id, 'increment')));
  assert.deepEqual([...values].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
  const res = await server.client.raw('GET', `/v1/workers/${w.id}/file-contents?path=/state/count.txt`);
  const lines = (await readAll(res.body)).toString('utf8').trim().split('\n').map(Number);
  assert.deepEqual(lines, Array.from({ length: 20 }, (_, i) => i + 1), 'appends never interleaved');
});

test('a timeout fails the call with E_TIMEOUT, marks the worker failed, and the next call gets a fresh instance', async () => {
  const c = server.client;
  const w = await createWorker(c, 'life.slow', 'spinner');
  assert.equal(await call(c, w.id, 'increment'), 1);
  assert.equal(await call(c, w.id, 'increment'), 2);
  const f = await failure(call(c, w.id, 'spin'));
  assert.equal(f.code, 'E_TIMEOUT');
  assert.equal(f.status, 408);
  const failed = await c.json<WorkerRecord>('GET', `/v1/workers/${w.id}`);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error?.code, 'E_TIMEOUT');
  assert.equal(await call(c, w.id, 'increment'), 1, 'fresh instance: memory starts over');
  assert.equal((await c.json<WorkerRecord>('GET', `/v1/workers/${w.id}`)).status, 'idle');
  // Other workers were never disturbed.
  const other = await createWorker(c, 'life.app', 'bystander');
  assert.equal(await call(c, other.id, 'increment'), 1);
  const missing = await failure(call(c, w.id, 'no_such_export'));
  assert.equal(missing.code, 'E_NOT_FOUND');
  assert.equal(await call(c, w.id, 'increment'), 2, 'a missing export does not reset the instance');
});

test('stdin/stdout convention: body → stdin, stdout → body, exit code header; state kept between calls', async () => {
  const c = server.client;
  const w = await createWorker(c, 'life.echo', 'echoer');
  const first = await c.raw('POST', `/v1/workers/${w.id}/invoke`, 'hello', { 'content-type': 'text/plain' });
  assert.equal((await readAll(first.body)).toString(), 'HELLO');
  assert.equal(first.headers['x-warren-exit-code'], '0');
  assert.equal(decodeURIComponent(String(first.headers['x-warren-stderr'])), 'call 1\n');
  const second = await c.raw('POST', `/v1/workers/${w.id}/invoke?stdin=1`, JSON.stringify({ a: 'b' }), { 'content-type': 'application/json' });
  assert.equal((await readAll(second.body)).toString(), '{"A":"B"}');
  assert.equal(decodeURIComponent(String(second.headers['x-warren-stderr'])), 'call 2\n', 'the instance (and its memory) lived on');
  const empty = await c.raw('POST', `/v1/workers/${w.id}/invoke?stdin=1`, '', { 'content-type': 'application/octet-stream' });
  await readAll(empty.body);
  assert.equal(empty.headers['x-warren-exit-code'], '3');
  // A reactor has no _start.
  const r = await createWorker(c, 'life.app', 'reactor-stdin');
  assert.equal((await failure(c.raw('POST', `/v1/workers/${r.id}/invoke`, 'x', { 'content-type': 'text/plain' }))).code, 'E_BAD_REQUEST');
  assert.equal((await failure(c.raw('POST', `/v1/workers/${r.id}/invoke`, '{"args":[1]}', { 'content-type': 'application/json' }))).code, 'E_BAD_REQUEST');
});

test('list: filters, count + cursor pages, and E_FILTER_INVALID for bad filters', async () => {
  const c = server.client;
  const made: WorkerRecord[] = [];
  for (let i = 0; i < 5; i++) made.push(await createWorker(c, 'life.app', `page-${i}`, { env: { REGION: i % 2 ? 'us' : 'eu' }, version: i < 2 ? '1.0.0' : '1.1.0' }));
  const q = (f: string, extra = '') => list(`filter=${encodeURIComponent(f)}${extra}`).then((r) => r.workers.map((w) => w.name));
  assert.deepEqual(await q('name startswith page- and env.REGION == eu'), ['page-0', 'page-2', 'page-4']);
  assert.deepEqual(await q('name like page-% and version < 1.1.0'), ['page-0', 'page-1']);
  assert.deepEqual(await q('name like "age-3"'), ['page-3']);
  assert.deepEqual(await q(`name startswith page- and created_at >= ${made[3].createdAt}`), ['page-3', 'page-4']);
  assert.deepEqual(await q('name startswith page- and status == idle and env.REGION != eu'), ['page-1', 'page-3']);

  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: { workers: WorkerRecord[]; cursor: string | null } = await list(`filter=${encodeURIComponent('name startswith page-')}&count=2${cursor ? `&cursor=${cursor}` : ''}`);
    assert.ok(page.workers.length <= 2);
    seen.push(...page.workers.map((w) => w.name));
    cursor = page.cursor;
    pages++;
    if (pages === 1) await createWorker(c, 'life.app', 'page-5'); // created mid-listing: lands on a later page
  } while (cursor);
  assert.deepEqual(seen, ['page-0', 'page-1', 'page-2', 'page-3', 'page-4', 'page-5']);

  for (const bad of ['status = idle', 'status == sleeping', 'version > banana', 'created_at > yesterday', 'nope == 1', 'name == a or name == b', 'name ==', '"name" == a', 'name == "open', 'status > idle']) {
    const f = await failure(list(`filter=${encodeURIComponent(bad)}`));
    assert.equal(f.code, 'E_FILTER_INVALID', bad);
    assert.equal(f.status, 400);
  }
  assert.equal((await failure(list('cursor=garbage'))).code, 'E_BAD_REQUEST');
});

test('namespaces: a project token sees only its own workers; another namespace is 404', async () => {
  const c = server.client;
  const mine = await createWorker(c, 'life.app', 'ns-mine');
  const theirs = await createWorker(c, 'other.app', 'ns-theirs');
  const { token } = await server.node.tokens.issue({ sub: 'proj', role: 'project', namespaces: ['life'], ttlMs: 3600_000 });
  const p = new ApiClient({ server: server.url, token });
  const visible = await list('count=1000', p);
  assert.ok(visible.workers.some((w) => w.id === mine.id));
  assert.ok(visible.workers.every((w) => w.namespace === 'life'));
  assert.equal(await call(p, mine.id, 'increment'), 1);
  for (const attempt of [
    p.json('GET', `/v1/workers/${theirs.id}`),
    call(p, theirs.id, 'increment'),
    p.json('DELETE', `/v1/workers/${theirs.id}`),
    p.json('POST', `/v1/workers/${theirs.id}/update`, { version: '1.0.0' }),
    p.json('GET', `/v1/workers/${theirs.id}/files?path=/`),
    p.raw('GET', `/v1/workers/${theirs.id}/file-contents?path=/static/greeting.txt`),
    p.raw('GET', `/v1/workers/${theirs.id}/archive?path=/`),
    createWorker(p, 'other.app', 'sneaky'),
  ]) {
    const f = await failure(attempt);
    assert.equal(f.status, 404, f.message);
    assert.equal(f.code, 'E_NOT_FOUND');
  }
  assert.equal((await c.json<WorkerRecord>('GET', `/v1/workers/${theirs.id}`)).status, 'idle', 'untouched');
});

test('delete stops the worker, removes its directory and record, frees its name', async () => {
  const c = server.client;
  const w = await createWorker(c, 'life.app', 'doomed');
  assert.equal(await call(c, w.id, 'increment'), 1);
  const dir = join(server.dataDir, 'workers', w.id);
  assert.ok(existsSync(dir));
  const gone = await c.json<WorkerRecord>('DELETE', `/v1/workers/${w.id}`);
  assert.equal(gone.status, 'deleted');
  assert.equal(existsSync(dir), false);
  assert.equal(await server.node.ctx.ports.registry.get(`worker/${w.id}`), null);
  assert.equal((await failure(c.json('GET', `/v1/workers/${w.id}`))).code, 'E_NOT_FOUND');
  assert.equal((await failure(call(c, w.id, 'increment'))).code, 'E_NOT_FOUND');
  const again = await createWorker(c, 'life.app', 'doomed');
  assert.notEqual(again.id, w.id);
  assert.equal(await call(c, again.id, 'increment'), 1);
});
