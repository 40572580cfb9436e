import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readAll } from '../../src/cli/api-client.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { pushTestComponent } from '../workers/worker-fixtures.js';

let server: TestServer;
const work = makeTempDir('warren-components-job-');

before(async () => {
  server = await startTestServer();
  // fixtures/c/wasi_probe.c made a wasi:cli/command component by `jco new` with the preview1 adapter.
  await pushTestComponent(server.client, work.path, 'comp', 'probe', '1.0.0', {
    wasm: 'wasi_probe.component.wasm',
    files: { 'etc/motd.txt': 'read-only motd', 'state/notes.txt': 'first notes' },
    modes: { '/etc/motd.txt': 'read-only', '/state/notes.txt': 'read-write' },
    limits: { memory: '64MiB', timeout: '10m' },
  });
});
after(async () => {
  await server.close();
  work.dispose();
});

async function job(ops: string[], stdin = '', query = ''): Promise<{ stdout: string; exitCode: number; stderr: string }> {
  const q = ops.map((o) => `arg=${encodeURIComponent(o)}`).join('&');
  const res = await server.client.raw('POST', `/v1/jobs/comp.probe/run?${q}${query}`, Buffer.from(stdin), { 'content-type': 'application/octet-stream' });
  const stdout = (await readAll(res.body)).toString('utf8');
  const t = res.trailers();
  return { stdout, exitCode: Number(t['x-warren-exit-code'] ?? res.headers['x-warren-exit-code']), stderr: decodeURIComponent(String(t['x-warren-stderr'] ?? res.headers['x-warren-stderr'] ?? '')) };
}

test('a command component runs as a job: args, env, stdin, stdout and exit code as a preview1 command', async () => {
  const out = await job(['args', 'stdin', 'env', 'GREETING', 'exit', '0'], 'hello from stdin', '&env=GREETING=hi');
  assert.equal(out.exitCode, 0, out.stdout + out.stderr);
  assert.match(out.stdout, /^args OK argc=7$/m);
  assert.match(out.stdout, /^stdin OK hello from stdin$/m);
  assert.match(out.stdout, /^env OK hi$/m);
  // WASI 0.2's exit carries ok/err only: exit(5) of the C guest is an error exit, code 1 (as wasmtime).
  assert.equal((await job(['exit', '5'])).exitCode, 1);
});

test("a component job sees its component's files: read-only ones refused for write, writes gone after the job", async () => {
  const out = await job(['read', '/etc/motd.txt', 'write', '/etc/motd.txt', 'x', 'append', '/state/notes.txt', ' more', 'read', '/state/notes.txt', 'read', '/etc/../../etc/passwd']);
  assert.equal(out.exitCode, 0, out.stdout + out.stderr);
  assert.match(out.stdout, /content read-only motd/);
  assert.match(out.stdout, /^write ERR 69$/m, 'EROFS for the read-only file');
  assert.match(out.stdout, /content first notes more/);
  assert.match(out.stdout, /^read ERR (63|44)$/m);
  const again = await job(['read', '/state/notes.txt']);
  assert.match(again.stdout, /content first notes\n/, 'the next job starts from the initial files');
});

test('a component job is stopped at its timeout (E_TIMEOUT), and the next one runs', async () => {
  const res = await server.client.raw('POST', '/v1/jobs/comp.probe/run?arg=spin&timeout=300ms', Buffer.from(''), { 'content-type': 'application/octet-stream' }).catch((e: Error & { code?: string }) => e);
  assert.ok(res instanceof Error && (res as { code?: string }).code === 'E_TIMEOUT', String(res));
  assert.equal((await job(['exit', '0'])).exitCode, 0);
});
