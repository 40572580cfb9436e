import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFileTree } from '../../src/manifest/file-tree.js';
import type { SnapshotRecord } from '../../src/records.js';
import { commitWorker } from '../../src/services/instances/index.js';
import { invokeWorker } from '../../src/services/instances/invoke-worker.js';
import { snapshotKey } from '../../src/services/snapshots/snapshot-keys.js';
import { workerPaths } from '../../src/services/workers/worker-keys.js';
import { startTestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { createWorker } from '../workers/worker-fixtures.js';
import { pushSnapComponent } from './snapshot-fixtures.js';

const work = makeTempDir('warren-touched-');
const server = await startTestServer();
after(async () => {
  await server.close();
  work.dispose();
});
const ctx = server.node.ctx;

/** The guest paths and contents of a snapshot's files. */
async function filesOf(snapshotId: string): Promise<{ digest: string; files: Record<string, string> }> {
  const snap = (await ctx.ports.registry.get<SnapshotRecord>(snapshotKey(snapshotId)))!.value;
  assert.ok(snap.files, `snapshot ${snapshotId} has files`);
  const tree = await readFileTree(ctx.ports.blobs, snap.files);
  const files: Record<string, string> = {};
  for (const e of tree.entries) files[e.path] = (await ctx.ports.blobs.get(e.digest)).toString('utf8').trim();
  return { digest: snap.files, files };
}

async function callAndSnapshot(id: string, exportName: string, args: number[] = []): Promise<string> {
  const r = await invokeWorker(ctx, id, { export: exportName, args });
  assert.ok(r.committed, `${exportName} is acknowledged after its snapshot`);
  return r.committed;
}

test('an on_call snapshot walks only the mounts the call may have changed (the WASI host tells)', async () => {
  await pushSnapComponent(server.client, work.path, { name: 'touched', onCall: 'full' });
  const w = await createWorker(server.client, 'sh.snap.touched', 'touched');
  const first = await filesOf(await callAndSnapshot(w.id, 'increment'));
  assert.equal(first.files['/data/count.txt'], '1');

  // A file the guest did not write (put there behind its back): a snapshot after a call that
  // changed only /data does not see it, because the root was not walked again.
  writeFileSync(join(workerPaths(ctx, w.id).root, 'behind.txt'), 'host\n');
  const second = await filesOf(await callAndSnapshot(w.id, 'increment'));
  assert.equal(second.files['/data/count.txt'], '2');
  assert.equal(second.files['/behind.txt'], undefined, 'the root was taken as the last snapshot had it');

  // A call that writes into the root: the root is walked, and everything in it is taken.
  const third = await filesOf(await callAndSnapshot(w.id, 'write_scratch', [7]));
  assert.equal(third.files['/scratch.txt'], '7');
  assert.equal(third.files['/behind.txt'], 'host');
  assert.equal(third.files['/data/count.txt'], '2');

  // A call that changes no file: the last snapshot's tree, as it was.
  const fourth = await filesOf(await callAndSnapshot(w.id, 'get'));
  assert.equal(fourth.digest, third.digest);

});

test('a commit after calls that changed no file takes the last snapshot\'s files without walking them', async () => {
  await pushSnapComponent(server.client, work.path, { name: 'quiet' });
  const w = await createWorker(server.client, 'sh.snap.quiet', 'quiet');
  await invokeWorker(ctx, w.id, { export: 'write_scratch', args: [3] });
  const c1 = await commitWorker(ctx, w.id);
  await invokeWorker(ctx, w.id, { export: 'get' });
  const c2 = await commitWorker(ctx, w.id);
  assert.equal(c2.snapshot.files, c1.snapshot.files);
  assert.equal(c2.stats.filesWritten, 0);
  await invokeWorker(ctx, w.id, { export: 'increment' });
  const c3 = await commitWorker(ctx, w.id);
  const files = await filesOf(c3.snapshot.id);
  assert.equal(files.files['/data/count.txt'], '1');
  assert.equal(files.files['/scratch.txt'], '3');
});
