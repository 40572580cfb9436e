import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ApiClient, readAll } from '../../src/cli/api-client.js';
import { isWarrenError } from '../../src/errors.js';
import type { WorkerRecord } from '../../src/records.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { makeTempDir, repoRoot } from '../support/temp-dir.js';
import { createWorker, pushTestComponent } from './worker-fixtures.js';

/**
 * Issue 21 point 10: a worker is addressable by `namespace/name`, and by its bare name when the
 * token has one namespace, everywhere an id is taken (API and CLI), as Golem does.
 */
let server: TestServer;
let counter: WorkerRecord;
let project: ApiClient;
let projectToken: string;
const work = makeTempDir('warren-worker-refs-');

before(async () => {
  server = await startTestServer();
  await pushTestComponent(server.client, work.path, 'sh.refs', 'counter', '1.0.0', { wasm: 'snap_counter.reactor.wasm', volumes: [{ name: 'data', mount: '/data' }] });
  await pushTestComponent(server.client, work.path, 'sh.other', 'counter', '1.0.0', { wasm: 'snap_counter.reactor.wasm', volumes: [{ name: 'data', mount: '/data' }] });
  counter = await createWorker(server.client, 'sh.refs.counter', 'c1');
  await createWorker(server.client, 'sh.other.counter', 'c1');
  projectToken = (await server.node.tokens.issue({ sub: 'refs', role: 'project', namespaces: ['sh.refs'], ttlMs: 3_600_000 })).token;
  project = new ApiClient({ server: server.url, token: projectToken });
});
after(async () => {
  await server.close();
  work.dispose();
});

const invoke = (client: ApiClient, ref: string) => client.json<{ returns: number[] }>('POST', `/v1/workers/${encodeURIComponent(ref)}/invoke`, { export: 'increment', args: [] });

async function refused(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e) => isWarrenError(e, code as never));
}

test('the API takes an id, namespace/name, or (for a token of one namespace) a bare name, on every worker route', async () => {
  const seen: number[] = [];
  seen.push((await invoke(server.client, counter.id)).returns[0]!);
  seen.push((await invoke(server.client, 'sh.refs/c1')).returns[0]!);
  seen.push((await invoke(project, 'c1')).returns[0]!);
  seen.push((await invoke(project, 'sh.refs/c1')).returns[0]!);
  assert.deepEqual(seen, [1, 2, 3, 4], 'one worker, four names');
  const shown = await project.json<WorkerRecord>('GET', '/v1/workers/c1');
  assert.equal(shown.id, counter.id);
  const files = await project.json<{ nodes: { path: string }[] }>('GET', `/v1/workers/${encodeURIComponent('sh.refs/c1')}/files?path=/`);
  assert.ok(Array.isArray(files.nodes));
  const snapshots = await server.client.json<{ snapshots: unknown[] }>('GET', `/v1/workers/${encodeURIComponent('sh.refs/c1')}/snapshots`);
  assert.ok(Array.isArray(snapshots.snapshots));
  const paused = await project.json<{ worker: WorkerRecord }>('POST', '/v1/workers/c1/pause');
  assert.equal(paused.worker.id, counter.id);
  // The other namespace's c1 is its own worker.
  assert.equal((await invoke(server.client, 'sh.other/c1')).returns[0], 1);
});

test('a name is looked up only where the caller may look: other namespaces are not found, and an admin\'s bare name is ambiguous', async () => {
  await refused(invoke(project, 'sh.other/c1'), 'E_NOT_FOUND');
  await refused(invoke(project, 'nope'), 'E_NOT_FOUND');
  await refused(invoke(server.client, 'sh.refs/nope'), 'E_NOT_FOUND');
  await refused(invoke(server.client, '../../x/c1'), 'E_NOT_FOUND');
  await refused(invoke(server.client, 'c1'), 'E_BAD_REQUEST');
  const twoNs = new ApiClient({ server: server.url, token: (await server.node.tokens.issue({ sub: 'two', role: 'project', namespaces: ['sh.refs', 'sh.other'], ttlMs: 3_600_000 })).token });
  await refused(invoke(twoNs, 'c1'), 'E_BAD_REQUEST');
  assert.ok((await invoke(twoNs, 'sh.other/c1')).returns[0]! > 0);
});

test('the CLI passes names through: warren worker invoke c1 increment, warren worker show sh.refs/c1', async () => {
  const warren = (token: string, args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [join(repoRoot, 'bin/warren.js'), '--server', server.url, '--token', token, ...args], { encoding: 'utf8' }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const before = (await invoke(server.client, counter.id)).returns[0]!;
  const bare = await warren(projectToken, ['worker', 'invoke', 'c1', 'increment']);
  assert.equal(bare.stdout, `${before + 1}\n`, bare.stderr);
  const show = await warren(server.adminToken, ['worker', 'show', 'sh.refs/c1', '--json']);
  assert.equal(show.code, 0, show.stderr);
  assert.equal((JSON.parse(show.stdout) as WorkerRecord).id, counter.id);
});

test('a component ref name@version is taken by the API as the CLI takes it: worker create and job run (issue 21.14)', async () => {
  const created = await server.client.json<WorkerRecord>('POST', '/v1/workers', { component: 'sh.refs.counter@1.0.0', name: 'at-ref' });
  assert.equal(created.component, 'sh.refs.counter');
  assert.equal(created.version, '1.0.0');
  await refused(server.client.json('POST', '/v1/workers', { component: 'sh.refs.counter@1.0.0', version: '2.0.0', name: 'clash' }), 'E_BAD_REQUEST');
  await refused(server.client.json('POST', '/v1/workers', { component: 'sh.refs.counter@9.9.9', name: 'absent' }), 'E_NOT_FOUND');
  await refused(server.client.json('POST', '/v1/workers', { component: 'sh.refs.counter@', name: 'empty' }), 'E_VERSION_INVALID');
  await pushTestComponent(server.client, work.path, 'sh.refs', 'echo', '1.0.0', { wasm: 'worker_echo.wasm' });
  const run = await server.client.raw('POST', `/v1/jobs/${encodeURIComponent('sh.refs.echo@1.0.0')}/run?format=json`, Buffer.from('hi'), { 'content-type': 'application/octet-stream' });
  const result = JSON.parse((await readAll(run.body)).toString('utf8')) as { version: string; exitCode: number };
  assert.equal(run.status, 200, JSON.stringify(result));
  assert.equal(result.version, '1.0.0');
  const unencoded = await server.client.raw('POST', '/v1/jobs/sh.refs.echo@1.0.0/run?format=json', Buffer.from('hi'), { 'content-type': 'application/octet-stream' });
  assert.equal(unencoded.status, 200);
  await readAll(unencoded.body);
});
