import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerRecord } from '../../src/records.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { makeTempDir, repoRoot } from '../support/temp-dir.js';
import { pushDir, pushTestComponent } from './worker-fixtures.js';

let server: TestServer;
const work = makeTempDir('warren-workers-cli-');

before(async () => {
  server = await startTestServer();
  await pushDir(server.client, join(repoRoot, 'examples/counter'));
  await pushTestComponent(server.client, work.path, 'cli', 'echo', '1.0.0', { wasm: 'worker_echo.wasm' });
});
after(async () => {
  await server.close();
  work.dispose();
});

function warren(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [join(repoRoot, 'bin/warren.js'), '--server', server.url, '--token', server.adminToken, ...args],
      { encoding: 'utf8' },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(stdin ?? '');
  });
}

test('warren worker: create, ls --filter --json, invoke, files, cat, download, show, rm', async () => {
  const created = await warren(['worker', 'create', 'sh.warren.counter@1.0.0', '--name', 'cli-counter', '--env', 'REGION=eu', '--json']);
  assert.equal(created.code, 0, created.stderr);
  const w = JSON.parse(created.stdout) as WorkerRecord;
  assert.equal(w.component, 'sh.warren.counter');
  assert.equal(w.env.REGION, 'eu');

  const ls = await warren(['worker', 'ls', '--filter', 'env.REGION == eu and name startswith cli-', '--json']);
  assert.equal(ls.code, 0, ls.stderr);
  assert.deepEqual((JSON.parse(ls.stdout) as { workers: WorkerRecord[] }).workers.map((x) => x.id), [w.id]);
  const table = await warren(['worker', 'ls']);
  assert.match(table.stdout, /^ID\s+NAME/m);
  assert.match(table.stdout, new RegExp(`${w.id}\\s+cli-counter`));

  const one = await warren(['worker', 'invoke', w.id, 'increment']);
  assert.equal(one.stdout, '1\n', one.stderr);
  assert.equal((await warren(['worker', 'invoke', w.id, 'increment'])).stdout, '2\n');
  assert.equal((await warren(['worker', 'invoke', w.id, 'greeting_length'])).stdout, `${readFileSync(join(repoRoot, 'examples/counter/static/greeting.txt')).length}\n`);

  const files = await warren(['worker', 'files', w.id, '/', '-r', '--json']);
  const nodes = JSON.parse(files.stdout) as { path: string; permissions: string }[];
  assert.deepEqual(
    nodes.filter((n) => n.path.endsWith('.txt')).map((n) => [n.path, n.permissions]),
    [
      ['/state/count.txt', 'read-write'],
      ['/static/greeting.txt', 'read-only'],
    ],
  );
  assert.equal((await warren(['worker', 'cat', w.id, '/state/count.txt'])).stdout, '1\n2\n');
  const zip = join(work.path, 'root.zip');
  const dl = await warren(['worker', 'download', w.id, '/', '-o', zip]);
  assert.equal(dl.code, 0, dl.stderr);
  assert.ok(statSync(zip).size > 0);
  assert.equal(readFileSync(zip).subarray(0, 4).toString('hex'), '504b0304', 'a zip');

  const show = await warren(['worker', 'show', w.id]);
  assert.match(show.stdout, /component sh\.warren\.counter@1\.0\.0/);

  const escape = await warren(['worker', 'cat', w.id, '/../../etc/passwd']);
  assert.equal(escape.code, 1);
  assert.match(escape.stderr, /E_PATH_INVALID/);

  const rm = await warren(['worker', 'rm', w.id]);
  assert.equal(rm.code, 0, rm.stderr);
  assert.equal(existsSync(join(server.dataDir, 'workers', w.id)), false);
  const missing = await warren(['worker', 'show', w.id]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /E_NOT_FOUND/);
});

test('warren worker invoke --stdin: stdin in, stdout out, the guest exit code is the exit status', async () => {
  const created = await warren(['worker', 'create', 'cli.echo', '--name', 'cli-echo', '--json']);
  const w = JSON.parse(created.stdout) as WorkerRecord;
  const out = await warren(['worker', 'invoke', w.id, '--stdin', '-'], 'shout');
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, 'SHOUT');
  assert.equal(out.stderr, 'call 1\n');
  const empty = await warren(['worker', 'invoke', w.id, '--stdin', '-'], '');
  assert.equal(empty.code, 3);
  const bad = await warren(['worker', 'invoke', w.id]);
  assert.equal(bad.code, 2, 'usage: neither an export nor --stdin');
});
