import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ComponentVersionRecord, FileTree } from '../../src/records.js';
import { restoreWorkerFiles, snapshotWorkerFiles } from '../../src/services/snapshots/snapshot-files.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { createWorker, fileText, listFiles, pushTestComponent } from '../workers/worker-fixtures.js';

let server: TestServer;
let version: ComponentVersionRecord;
const work = makeTempDir('warren-overlay-restore-');

before(async () => {
  server = await startTestServer();
  version = await pushTestComponent(server.client, work.path, 'ovl', 'app', '1.0.0', {
    files: { 'static/greeting.txt': 'hi\n', 'state/own.txt': '7' },
    modes: { '/state/own.txt': 'read-write' },
  });
});
after(async () => {
  await server.close();
  work.dispose();
});

async function treeOf(paths: string[]): Promise<string> {
  const { blobs } = server.node.ctx.ports;
  const info = await blobs.put('restored');
  const tree: FileTree = { version: 1, entries: paths.sort().map((path) => ({ path, digest: info.integrity, mode: 'rw' as const, size: info.size })) };
  return (await blobs.put(JSON.stringify(tree))).integrity;
}

test("a full snapshot holds the worker's own layer only; a restore that would hide a read-only file of the version is refused before anything changes", async () => {
  const ctx = server.node.ctx;
  const w = await createWorker(server.client, 'ovl.app', 'restored');
  const snap = await snapshotWorkerFiles(ctx, w.id, version, 'full', ctx.ports.blobs);
  const stored = JSON.parse((await ctx.ports.blobs.get(snap.digest)).toString('utf8')) as FileTree;
  assert.deepEqual(stored.entries.map((e) => e.path), ['/state/own.txt'], 'no read-only file in a full snapshot');

  for (const bad of ['/static/greeting.txt', '/static/greeting.txt/under', '/static']) {
    await assert.rejects(restoreWorkerFiles(ctx, w.id, version, 'full', await treeOf(['/state/own.txt', bad]), ctx.ports.blobs), { code: 'E_SNAPSHOT_INVALID' }, bad);
    assert.equal(await fileText(server.client, w.id, '/state/own.txt'), '7', `${bad}: nothing changed`);
  }
  // A new file in a directory of the read-only layer lands in the worker's own layer, merged.
  await restoreWorkerFiles(ctx, w.id, version, 'full', await treeOf(['/state/own.txt', '/static/mine.txt']), ctx.ports.blobs);
  assert.ok(existsSync(join(server.dataDir, 'workers', w.id, 'root', 'static', 'mine.txt')));
  assert.deepEqual(
    (await listFiles(server.client, w.id, '/static')).map((n) => [n.path, n.permissions]),
    [['/static/greeting.txt', 'read-only'], ['/static/mine.txt', 'read-write']],
  );
  assert.equal(await fileText(server.client, w.id, '/state/own.txt'), 'restored');
});
