import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readFileTree } from '../../src/manifest/file-tree.js';
import { readRootTag } from '../../src/fsplace/recover-root.js';
import type { ComponentVersionRecord, WorkerRecord } from '../../src/records.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { ERRNO, call, createWorker, fileText, hostFileOf, listFiles, pushTestComponent } from './worker-fixtures.js';

let server: TestServer;
let v1: ComponentVersionRecord;
const work = makeTempDir('warren-workers-legacy-');

before(async () => {
  server = await startTestServer();
  const files = { 'static/greeting.txt': 'hello', 'state/own.txt': '7', 'state/count.txt': '' };
  const modes = { '/state/own.txt': 'read-write', '/state/count.txt': 'read-write' } as const;
  v1 = await pushTestComponent(server.client, work.path, 'old', 'app', '1.0.0', { files, modes });
  await pushTestComponent(server.client, work.path, 'old', 'app', '2.0.0', { files: { ...files, 'static/greeting.txt': 'hello again' }, modes });
});
after(async () => {
  await server.close();
  work.dispose();
});

/**
 * Turns a new worker's dir into what the layout before overlays made: every read-only file
 * hardlinked from the store into the root, and a tag without the `overlay` line.
 */
async function makeWholeTreeRoot(id: string, version: ComponentVersionRecord): Promise<string> {
  const root = join(server.dataDir, 'workers', id, 'root');
  const { blobs } = server.node.ctx.ports;
  for (const e of (await readFileTree(blobs, version.fileTree!)).entries) {
    if (e.mode !== 'ro') continue;
    mkdirSync(dirname(join(root, e.path)), { recursive: true });
    linkSync((await blobs.path(e.digest))!, join(root, e.path));
  }
  writeFileSync(`${root}.tag`, `${version.version}\n`);
  return root;
}

test('a worker root placed before overlays keeps working as a whole tree, and an update makes it an overlay', async () => {
  const c = server.client;
  const w = await createWorker(c, 'old.app', 'veteran', { version: '1.0.0' });
  const root = await makeWholeTreeRoot(w.id, v1);
  assert.deepEqual(await readRootTag(root), { version: '1.0.0', overlay: false });

  // Mounted without a lower layer: the read-only file is the one in the root, read-only by inode.
  const greeting = await hostFileOf(server.node.ctx, w.id, '/static/greeting.txt');
  assert.equal(greeting.inLower, false);
  assert.equal(greeting.hostPath, join(root, 'static/greeting.txt'));
  assert.equal(new Map((await listFiles(c, w.id, '/', true)).map((n) => [n.path, n.permissions])).get('/static/greeting.txt'), 'read-only');
  assert.equal(await call(c, w.id, 'write_ro'), -ERRNO.EROFS);
  assert.equal(await call(c, w.id, 'write_rw', [41]), 0);
  assert.equal(await fileText(c, w.id, '/static/greeting.txt'), 'hello');

  const res = await c.json<{ worker: WorkerRecord }>('POST', `/v1/workers/${w.id}/update`, { version: '2.0.0' });
  assert.equal(res.worker.version, '2.0.0');
  assert.deepEqual(await readRootTag(root), { version: '2.0.0', overlay: true });
  assert.equal(existsSync(join(root, 'static/greeting.txt')), false, 'the read-only files left the root');
  assert.deepEqual(readdirSync(join(root, 'state')).sort(), ['count.txt', 'own.txt']);
  assert.ok((await hostFileOf(server.node.ctx, w.id, '/static/greeting.txt')).inLower);
  assert.equal(await fileText(c, w.id, '/static/greeting.txt'), 'hello again');
  assert.equal(await fileText(c, w.id, '/state/own.txt'), '41', "the worker's own file is kept");
  assert.equal(await call(c, w.id, 'read_rw'), 41);
  assert.equal(await call(c, w.id, 'write_ro'), -ERRNO.EROFS);
});
