import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAll } from '../../src/cli/api-client.js';
import type { FileTree } from '../../src/records.js';
import { planJobFiles } from '../../src/services/jobs/plan-job-files.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { pushTestComponent } from '../workers/worker-fixtures.js';

const work = makeTempDir('warren-job-files-');
let server: TestServer;

const FILES = {
  'share/voice/a.txt': 'voice a',
  'share/voice/deep/b.txt': 'voice b',
  'share/lex.txt': 'lexicon',
  'conf/ro.txt': 'fixed',
  'conf/rw.txt': 'initial',
  'top.txt': 'at the root',
};

before(async () => {
  server = await startTestServer({ jobThreads: 2 });
  await pushTestComponent(server.client, work.path, 'sh.jobs', 'probe', '1.0.0', {
    wasm: 'wasi_probe.wasm',
    files: FILES,
    modes: { '/conf/rw.txt': 'read-write' },
    volumes: [{ name: 'cache', mount: '/cache' }],
    limits: { timeout: '300s', disk: '4KiB' },
  });
});
after(async () => {
  await server.close();
  work.dispose();
});

/** Runs the probe as a job; one result per operation: `OK <detail>`, `OK <content>` for reads, or `ERR <errno>`. */
async function job(...args: string[]): Promise<{ results: string[]; exitCode: number }> {
  const q = new URLSearchParams(args.map((a) => ['arg', a]));
  const res = await server.client.raw('POST', `/v1/jobs/sh.jobs.probe/run?${q}`, Buffer.alloc(0), { 'content-type': 'application/octet-stream' });
  const out = (await readAll(res.body)).toString('utf8');
  const t = res.trailers();
  const results: string[] = [];
  for (const line of out.split('\n').filter(Boolean)) {
    if (line.startsWith('content ')) results[results.length - 1] = `OK ${line.slice('content '.length)}`;
    else results.push(line.slice(line.indexOf(' ') + 1));
  }
  return { results, exitCode: Number(t['x-warren-exit-code'] ?? res.headers['x-warren-exit-code']) };
}

const results = (r: { results: string[] }) => r.results;

test('a job sees its read-only files, cannot write them, and gets a private copy of its read-write files', async () => {
  const r = await job(
    'read', '/share/voice/deep/b.txt',
    'read', '/share/lex.txt',
    'read', '/top.txt',
    'read', '/conf/ro.txt',
    'read', '/conf/rw.txt',
    'write', '/share/voice/a.txt', 'x',
    'write', '/share/new.txt', 'x',
    'write', '/conf/ro.txt', 'x',
    'write', '/top.txt', 'x',
    'write', '/conf/rw.txt', 'changed',
    'read', '/conf/rw.txt',
    'write', '/scratch.txt', 'mine',
    'read', '/scratch.txt',
    'write', '/cache/c.txt', 'cached',
    'read', '/cache/c.txt',
  );
  assert.equal(r.exitCode, 0);
  const [b, lex, top, ro, rw, w1, w2, w3, w4, w5, rw2, s1, s2, c1, c2] = results(r);
  assert.deepEqual([b, lex, top, ro, rw], ['OK voice b', 'OK lexicon', 'OK at the root', 'OK fixed', 'OK initial']);
  for (const w of [w1, w2, w3, w4]) assert.match(w!, /^ERR \d+/, 'read-only files (and directories of read-only files only) refuse writes');
  assert.deepEqual([w5, rw2, s1, s2, c1, c2], ['OK ', 'OK changed', 'OK ', 'OK mine', 'OK ', 'OK cached']);
});

test("a job's writes are gone when it ends: the next job sees the initial files, no scratch root is left, the store is untouched", async () => {
  await job('write', '/conf/rw.txt', 'changed', 'write', '/scratch.txt', 'mine');
  const r = await job('read', '/conf/rw.txt', 'read', '/scratch.txt', 'ls', '/cache');
  const [rw, scratch, cache] = results(r);
  assert.equal(rw, 'OK initial');
  assert.match(scratch!, /^ERR 44/, 'ENOENT');
  assert.equal(cache, 'OK .,..', 'the volume starts empty in every job');
  const jobsDir = join(server.dataDir, 'jobs');
  assert.deepEqual(existsSync(jobsDir) ? readdirSync(jobsDir) : [], []);
  assert.equal(readdirSync(join(server.dataDir, 'trees')).length, 1, "one shared tree for the version's read-only files");
  // Every read-only file of the store still has its pushed bytes.
  const version = await server.node.ctx.versions.get('sh.jobs.probe');
  const tree = JSON.parse((await server.node.ctx.ports.blobs.get(version.fileTree!)).toString('utf8')) as FileTree;
  for (const e of tree.entries) {
    const path = await server.node.ctx.ports.blobs.path(e.digest);
    assert.equal(readFileSync(path!, 'utf8'), FILES[e.path.slice(1) as keyof typeof FILES]);
  }
});

test('the disk quota applies to a job', async () => {
  const big = 'x'.repeat(3 * 1024);
  const r = await job('write', '/one.txt', big, 'write', '/two.txt', big);
  const [one, two] = results(r);
  assert.equal(one, 'OK ');
  assert.match(two!, /^ERR 51/, 'ENOSPC past the 4 KiB quota');
});

test('jobs share read-only directories whole: per-job work does not grow with the number of read-only files', () => {
  const many: FileTree = {
    version: 1,
    entries: [
      ...Array.from({ length: 1000 }, (_, i) => ({ path: `/share/d${i % 10}/f${i}`, digest: 'sha256-x', mode: 'ro' as const, size: 1 })),
      { path: '/tmp/scratch', digest: 'sha256-y', mode: 'rw' as const, size: 1 },
    ],
  };
  const plan = planJobFiles(many, []);
  assert.deepEqual(plan.sharedDirs, ['/share']);
  assert.deepEqual([plan.linkedFiles.length, plan.copiedFiles.length], [0, 1]);
  const mixed = planJobFiles({ version: 1, entries: [...many.entries, { path: '/share/d0/rw', digest: 'sha256-z', mode: 'rw', size: 1 }] }, []);
  assert.deepEqual(mixed.sharedDirs, ['/share/d1', '/share/d2', '/share/d3', '/share/d4', '/share/d5', '/share/d6', '/share/d7', '/share/d8', '/share/d9']);
  assert.equal(mixed.linkedFiles.length, 100, 'only the read-only files beside a read-write one are linked per job');
});
