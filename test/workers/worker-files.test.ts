import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAll } from '../../src/cli/api-client.js';
import type { ComponentVersionRecord } from '../../src/records.js';
import { readFileTree } from '../../src/manifest/file-tree.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { ERRNO, call, createWorker, failure, fileText, hostFileOf, listFiles, pushTestComponent } from './worker-fixtures.js';

let server: TestServer;
let component: ComponentVersionRecord;
const work = makeTempDir('warren-workers-files-');
const GREETING = 'hello from a shared read-only file\n';

before(async () => {
  server = await startTestServer();
  component = await pushTestComponent(server.client, work.path, 'test', 'files', '1.0.0', {
    files: { 'static/greeting.txt': GREETING, 'state/own.txt': '7', 'state/count.txt': '' },
    modes: { '/static/greeting.txt': 'read-only', '/state/own.txt': 'read-write', '/state/count.txt': 'read-write' },
    volumes: [{ name: 'data', mount: '/data' }],
  });
});
after(async () => {
  await server.close();
  work.dispose();
});

const rootOf = (id: string) => join(server.dataDir, 'workers', id, 'root');

async function storeFileOf(guestPath: string): Promise<string> {
  const tree = await readFileTree(server.node.ctx.ports.blobs, component.fileTree!);
  const entry = tree.entries.find((e) => e.path === guestPath);
  assert.ok(entry, `${guestPath} in the tree`);
  const p = await server.node.ctx.ports.blobs.path(entry.digest);
  assert.ok(p);
  return p;
}

test('two workers of one version read the same host file for a read-only path: the version tree on the node, a link of the store file; their roots hold only rw files', async () => {
  const a = await createWorker(server.client, 'test.files', 'share-a');
  const b = await createWorker(server.client, 'test.files', 'share-b');
  const roA = await hostFileOf(server.node.ctx, a.id, '/static/greeting.txt');
  const roB = await hostFileOf(server.node.ctx, b.id, '/static/greeting.txt');
  const store = statSync(await storeFileOf('/static/greeting.txt'));
  assert.equal(roA.hostPath, roB.hostPath);
  assert.ok(roA.inLower && roB.inLower, 'found in the lower layer');
  assert.ok(roA.hostPath.startsWith(join(server.dataDir, 'trees') + '/'), 'the shared tree of the version');
  assert.equal(roA.stat.ino, roB.stat.ino);
  assert.equal(roA.stat.ino, store.ino);
  assert.equal(roA.stat.dev, store.dev);
  // The worker's own layer has no copy or link of it.
  assert.equal(existsSync(join(rootOf(a.id), 'static/greeting.txt')), false);
  assert.equal(existsSync(join(rootOf(b.id), 'static/greeting.txt')), false);
  assert.equal((await listFiles(server.client, a.id, '/static/greeting.txt'))[0]?.permissions, 'read-only');
  const rwA = statSync(join(rootOf(a.id), 'state/own.txt'));
  const rwB = statSync(join(rootOf(b.id), 'state/own.txt'));
  assert.notEqual(rwA.ino, rwB.ino);
  assert.notEqual(rwA.ino, statSync(await storeFileOf('/state/own.txt')).ino);

  // A guest write to the read-only file fails with EROFS; bytes unchanged everywhere.
  assert.equal(await call(server.client, a.id, 'write_ro'), -ERRNO.EROFS);
  assert.equal(readFileSync(roA.hostPath, 'utf8'), GREETING);
  assert.equal(await fileText(server.client, b.id, '/static/greeting.txt'), GREETING);
  assert.equal(existsSync(join(rootOf(a.id), 'static/greeting.txt')), false, 'the failed write made no copy');
  assert.equal(readFileSync(await storeFileOf('/static/greeting.txt'), 'utf8'), GREETING);

  // Each worker's read-write file is its own.
  assert.equal(await call(server.client, a.id, 'write_rw', [41]), 0);
  assert.equal(await call(server.client, b.id, 'write_rw', [99]), 0);
  assert.equal(await call(server.client, a.id, 'read_rw'), 41);
  assert.equal(await call(server.client, b.id, 'read_rw'), 99);
  assert.equal(await fileText(server.client, a.id, '/state/own.txt'), '41');
  assert.equal(await fileText(server.client, b.id, '/state/own.txt'), '99');
  assert.equal(readFileSync(await storeFileOf('/state/own.txt'), 'utf8'), '7');
});

test('state is kept between invocations: memory counter and rw file', async () => {
  const w = await createWorker(server.client, 'test.files', 'state-keeper');
  assert.equal(await call(server.client, w.id, 'increment'), 1);
  assert.equal(await call(server.client, w.id, 'increment'), 2);
  assert.equal(await call(server.client, w.id, 'increment'), 3);
  assert.equal(await fileText(server.client, w.id, '/state/count.txt'), '1\n2\n3\n');
  const shown = await server.client.json<{ status: string }>('GET', `/v1/workers/${w.id}`);
  assert.equal(shown.status, 'idle');
});

test('file API: listing with permissions, one file, recursive, contents and a zip archive', async () => {
  const w = await createWorker(server.client, 'test.files', 'lister');
  await call(server.client, w.id, 'fill', [2]);
  const top = await listFiles(server.client, w.id, '/');
  assert.deepEqual(
    top.map((n) => [n.path, n.kind]),
    [
      ['/data', 'directory'],
      ['/state', 'directory'],
      ['/static', 'directory'],
    ],
  );
  const one = await listFiles(server.client, w.id, '/static/greeting.txt');
  assert.equal(one.length, 1);
  assert.equal(one[0].permissions, 'read-only');
  assert.equal(one[0].size, Buffer.byteLength(GREETING));
  assert.equal(one[0].kind, 'file');
  const all = await listFiles(server.client, w.id, '/', true);
  const byPath = new Map(all.map((n) => [n.path, n]));
  assert.equal(byPath.get('/state/own.txt')?.permissions, 'read-write');
  assert.equal(byPath.get('/static/greeting.txt')?.permissions, 'read-only');
  assert.equal(byPath.get('/data/big.bin')?.size, 2048, 'the volume is listed at its mount');
  assert.equal(await fileText(server.client, w.id, '/static/greeting.txt'), GREETING);

  const zip = await server.client.raw('GET', `/v1/workers/${w.id}/archive?path=/`);
  assert.equal(zip.headers['content-type'], 'application/zip');
  const zipFile = join(work.path, 'lister.zip');
  writeFileSync(zipFile, await readAll(zip.body));
  const listing = execFileSync('python3', ['-c', 'import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); print("\\n".join(sorted(i.filename+" "+oct(i.external_attr>>16) for i in z.infolist() if not i.is_dir()))); print(z.read("state/own.txt").decode())', zipFile], { encoding: 'utf8' });
  assert.match(listing, /^static\/greeting\.txt 0o100444$/m);
  assert.match(listing, /^state\/own\.txt 0o100644$/m);
  assert.match(listing, /^data\/big\.bin 0o100644$/m);
  assert.match(listing, /^7$/m);
});

test('file API refuses path escapes and never follows symlinks', async () => {
  const w = await createWorker(server.client, 'test.files', 'escaper');
  for (const path of ['../../etc/passwd', '/static/../../etc/passwd', '/..', 'static/greeting.txt', '/a\0b']) {
    const f = await failure(server.client.raw('GET', `/v1/workers/${w.id}/file-contents?${new URLSearchParams({ path })}`));
    assert.equal(f.code, 'E_PATH_INVALID', `${JSON.stringify(path)}: ${f.message}`);
    assert.equal(f.status, 400);
  }
  // A symlink the guest might have made, pointing out of the root.
  symlinkSync('/etc', join(rootOf(w.id), 'state', 'escape'));
  symlinkSync('/etc/passwd', join(rootOf(w.id), 'state', 'passwd'));
  for (const path of ['/state/escape/passwd', '/state/passwd', '/state/escape']) {
    const f = await failure(server.client.raw('GET', `/v1/workers/${w.id}/file-contents?${new URLSearchParams({ path })}`));
    assert.equal(f.code, 'E_PATH_INVALID', `${path}: ${f.message}`);
    const l = await failure(listFiles(server.client, w.id, path));
    assert.equal(l.code, 'E_PATH_INVALID');
  }
  const state = await listFiles(server.client, w.id, '/state', true);
  assert.ok(!state.some((n) => n.name === 'escape' || n.name === 'passwd'), 'symlinks are not listed');
  const missing = await failure(fileText(server.client, w.id, '/nope.txt'));
  assert.equal(missing.code, 'E_NOT_FOUND');
  assert.ok(lstatSync(join(rootOf(w.id), 'state', 'escape')).isSymbolicLink());
});

test('disk quota: past limits.disk the guest gets ENOSPC, and the worker and node keep working', async () => {
  await pushTestComponent(server.client, work.path, 'test', 'quota', '1.0.0', {
    files: { 'state/count.txt': '', 'state/own.txt': '5' },
    modes: { '/state/count.txt': 'read-write', '/state/own.txt': 'read-write' },
    volumes: [{ name: 'data', mount: '/data' }],
    limits: { disk: '64KiB' },
  });
  const w = await createWorker(server.client, 'test.quota', 'filler');
  assert.equal(await call(server.client, w.id, 'fill', [16]), 0);
  assert.equal(await call(server.client, w.id, 'fill', [100]), -ERRNO.ENOSPC);
  assert.equal(await call(server.client, w.id, 'read_rw'), 5, 'the worker still answers (reads need no space)');
  assert.equal(await call(server.client, w.id, 'unfill'), 0);
  assert.equal(await call(server.client, w.id, 'fill', [16]), 0, 'space is back after the file is removed');
  assert.equal(await call(server.client, w.id, 'increment'), 1, 'the same instance, memory intact');
  const shown = await server.client.json<{ status: string }>('GET', `/v1/workers/${w.id}`);
  assert.equal(shown.status, 'idle');
  const other = await createWorker(server.client, 'test.files', 'bystander');
  assert.equal(await call(server.client, other.id, 'increment'), 1);
});

test('file reads wait for the running call: never a half-written file', async () => {
  const w = await createWorker(server.client, 'test.files', 'slow-writer');
  assert.equal(await call(server.client, w.id, 'increment'), 1, 'the instance is up before the race');
  const kib = 64;
  const big = join(server.dataDir, 'workers', w.id, 'volumes', 'data', 'big.bin');
  // Counts what enters the worker's queue (the queue itself runs as always).
  const live = server.node.ctx.live;
  const enqueue = live.enqueue.bind(live);
  let queued = 0;
  live.enqueue = (id, task) => {
    if (id === w.id) queued++;
    return enqueue(id, task);
  };
  try {
    // The call writes half the file, then waits for /go: it is mid-write until the test says so.
    const writing = call(server.client, w.id, 'fill_wait', [kib]);
    await until('the first half written', () => existsSync(big) && statSync(big).size === (kib / 2) * 1024);
    queued = 0;
    let readsDone = false;
    const reads = Promise.all([
      server.client.raw('GET', `/v1/workers/${w.id}/file-contents?path=/data/big.bin`).then(async (res) => (await readAll(res.body)).length, (e: { code: string }) => e.code),
      listFiles(server.client, w.id, '/data').then((nodes) => nodes.find((n) => n.name === 'big.bin')?.size ?? 'E_NOT_FOUND'),
    ]).finally(() => (readsDone = true));
    // Both reads wait in the worker's queue behind the call (had they not waited, they are done).
    await until('both reads queued or done', () => queued >= 2 || readsDone);
    writeFileSync(join(rootOf(w.id), 'go'), '');
    assert.equal(await writing, 0);
    assert.deepEqual(await reads, [kib * 1024, kib * 1024], 'the reads saw the file once the call was done');
  } finally {
    live.enqueue = enqueue;
  }
});

/** Polls `ready` until it holds (a deadline against hanging only: time is not what is tested). */
async function until(what: string, ready: () => boolean): Promise<void> {
  const deadline = Date.now() + 5 * 60_000;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
