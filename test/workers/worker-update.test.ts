import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ComponentVersionRecord, WorkerRecord } from '../../src/records.js';
import { readFileTree } from '../../src/manifest/file-tree.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { ERRNO, call, createWorker, failure, fileText, hostFileOf, listFiles, pushTestComponent } from './worker-fixtures.js';

let server: TestServer;
let v2: ComponentVersionRecord;
const work = makeTempDir('warren-workers-update-');

before(async () => {
  server = await startTestServer();
  const c = server.client;
  await pushTestComponent(c, work.path, 'upd', 'app', '1.0.0', {
    files: { 'static/greeting.txt': 'v1-roro', 'static/rorw.txt': 'v1-rorw', 'static/gone.txt': 'v1-gone', 'state/own.txt': '7', 'state/count.txt': '' },
    modes: { '/state/own.txt': 'read-write', '/state/count.txt': 'read-write' },
  });
  v2 = await pushTestComponent(c, work.path, 'upd', 'app', '2.0.0', {
    files: { 'static/greeting.txt': 'v2-roro', 'static/rorw.txt': 'v2-rorw', 'static/new.txt': 'v2-new', 'state/own.txt': 'v2-own', 'state/new-rw.txt': 'v2-new-rw', 'state/count.txt': '' },
    modes: { '/static/rorw.txt': 'read-write', '/state/own.txt': 'read-write', '/state/new-rw.txt': 'read-write', '/state/count.txt': 'read-write' },
  });
  // rw→ro: /state/own.txt becomes read-only.
  await pushTestComponent(c, work.path, 'upd', 'app', '3.0.0', {
    files: { 'static/greeting.txt': 'v3-roro', 'state/own.txt': 'v3-own', 'state/count.txt': '' },
    modes: { '/state/count.txt': 'read-write' },
  });
});
after(async () => {
  await server.close();
  work.dispose();
});

const rootOf = (id: string) => join(server.dataDir, 'workers', id, 'root');

async function storeInode(record: ComponentVersionRecord, guestPath: string): Promise<number> {
  const tree = await readFileTree(server.node.ctx.ports.blobs, record.fileTree!);
  const entry = tree.entries.find((e) => e.path === guestPath)!;
  return statSync((await server.node.ctx.ports.blobs.path(entry.digest))!).ino;
}

test("update follows Golem's rules; the next call runs the new version in a fresh instance", async () => {
  const c = server.client;
  const w = await createWorker(c, 'upd.app', 'mover', { version: '1.0.0' });
  assert.equal(w.version, '1.0.0');
  assert.equal(await call(c, w.id, 'increment'), 1);
  assert.equal(await call(c, w.id, 'increment'), 2);
  assert.equal(await call(c, w.id, 'write_rw', [41]), 0, 'the worker changes its rw file');

  const res = await c.json<{ worker: WorkerRecord; from: string; to: string; changed: boolean }>('POST', `/v1/workers/${w.id}/update`, { version: '2.0.0' });
  assert.deepEqual([res.from, res.to, res.changed, res.worker.version], ['1.0.0', '2.0.0', true, '2.0.0']);
  assert.equal((await c.json<WorkerRecord>('GET', `/v1/workers/${w.id}`)).version, '2.0.0');

  const files = new Map((await listFiles(c, w.id, '/', true)).map((n) => [n.path, n]));
  // ro→ro, new digest: replaced, and still the store's inode.
  assert.equal(await fileText(c, w.id, '/static/greeting.txt'), 'v2-roro');
  assert.equal(files.get('/static/greeting.txt')?.permissions, 'read-only');
  const greeting = await hostFileOf(server.node.ctx, w.id, '/static/greeting.txt');
  assert.ok(greeting.inLower, "the new version's shared tree, under the worker's own layer");
  assert.equal(greeting.stat.ino, await storeInode(v2, '/static/greeting.txt'));
  assert.equal(existsSync(join(rootOf(w.id), 'static/greeting.txt')), false);
  // ro→rw: a private copy of the new bytes.
  assert.equal(await fileText(c, w.id, '/static/rorw.txt'), 'v2-rorw');
  assert.equal(files.get('/static/rorw.txt')?.permissions, 'read-write');
  assert.notEqual(statSync(join(rootOf(w.id), 'static/rorw.txt')).ino, await storeInode(v2, '/static/rorw.txt'));
  // ro→missing: deleted.
  assert.equal(files.has('/static/gone.txt'), false);
  assert.equal((await failure(fileText(c, w.id, '/static/gone.txt'))).code, 'E_NOT_FOUND');
  // rw→rw: the worker's bytes win.
  assert.equal(await fileText(c, w.id, '/state/own.txt'), '41');
  // missing→ro and missing→rw: created.
  assert.equal(await fileText(c, w.id, '/static/new.txt'), 'v2-new');
  assert.equal(files.get('/static/new.txt')?.permissions, 'read-only');
  assert.equal(await fileText(c, w.id, '/state/new-rw.txt'), 'v2-new-rw');
  assert.equal(files.get('/state/new-rw.txt')?.permissions, 'read-write');

  // The live instance was stopped: memory starts over, files carry on.
  assert.equal(await call(c, w.id, 'increment'), 1);
  assert.equal(await fileText(c, w.id, '/state/count.txt'), '1\n2\n1\n');
  // The replaced read-only file is read-only to the new instance too.
  assert.equal(await call(c, w.id, 'write_ro'), -ERRNO.EROFS);
  assert.equal(await fileText(c, w.id, '/static/greeting.txt'), 'v2-roro');
});

test('rw→ro is refused with E_UPDATE_CONFLICT and nothing changes', async () => {
  const c = server.client;
  const w = await createWorker(c, 'upd.app', 'stuck', { version: '2.0.0' });
  assert.equal(await call(c, w.id, 'write_rw', [5]), 0);
  assert.equal(await call(c, w.id, 'increment'), 1);
  const before = await listFiles(c, w.id, '/', true);
  const f = await failure(c.json('POST', `/v1/workers/${w.id}/update`, { version: '3.0.0' }));
  assert.equal(f.code, 'E_UPDATE_CONFLICT');
  assert.equal(f.status, 409);
  assert.equal((await c.json<WorkerRecord>('GET', `/v1/workers/${w.id}`)).version, '2.0.0');
  const afterList = await listFiles(c, w.id, '/', true);
  assert.deepEqual(
    afterList.map((n) => [n.path, n.size, n.permissions]),
    before.map((n) => [n.path, n.size, n.permissions]),
  );
  assert.equal(await fileText(c, w.id, '/state/own.txt'), '5');
  assert.equal(await fileText(c, w.id, '/static/greeting.txt'), 'v2-roro');
  assert.equal(await call(c, w.id, 'increment'), 2, 'the live instance was not touched');
});

test('update to the same version is a no-op; to an unknown version E_NOT_FOUND', async () => {
  const c = server.client;
  const w = await createWorker(c, 'upd.app', 'still', { version: '2.0.0' });
  const same = await c.json<{ changed: boolean }>('POST', `/v1/workers/${w.id}/update`, { version: '2.0.0' });
  assert.equal(same.changed, false);
  assert.equal((await failure(c.json('POST', `/v1/workers/${w.id}/update`, { version: '9.9.9' }))).code, 'E_NOT_FOUND');
});
