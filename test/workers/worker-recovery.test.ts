import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerRecord } from '../../src/records.js';
import { IN_FLIGHT_GRACE_MS } from '../../src/services/workers/recover-workers.js';
import { WarrenNode } from '../../src/services/warren-node.js';
import { startTestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { ERRNO, call, createWorker, fileText, pushTestComponent } from './worker-fixtures.js';

const data = makeTempDir('warren-workers-recovery-');
const work = makeTempDir('warren-workers-recovery-src-');
after(() => {
  data.dispose();
  work.dispose();
});

test('node start recovers workers: orphan dirs go, interrupted deletes finish, stale marks reset, files survive', async () => {
  const first = await startTestServer({ dataDir: data.path });
  const old = (Date.now() - IN_FLIGHT_GRACE_MS - 60_000) / 1000;
  let keep: WorkerRecord;
  let halfDeleted: WorkerRecord;
  let running: WorkerRecord;
  try {
    await pushTestComponent(first.client, work.path, 'rec', 'app', '1.0.0', {
      files: { 'static/greeting.txt': 'hi\n', 'state/count.txt': '' },
      modes: { '/state/count.txt': 'read-write' },
    });
    keep = await createWorker(first.client, 'rec.app', 'keep');
    assert.equal(await call(first.client, keep.id, 'increment'), 1);
    halfDeleted = await createWorker(first.client, 'rec.app', 'half-deleted');
    running = await createWorker(first.client, 'rec.app', 'was-running');
    const reg = first.node.ctx.ports.registry;
    // A delete that crashed after its `deleted` mark; a call that crashed mid-way.
    await reg.put(`worker/${halfDeleted.id}`, { ...halfDeleted, status: 'deleted' });
    await reg.put(`worker/${running.id}`, { ...running, status: 'running' });
    // A create that crashed after placing files (old), and one that may still be placing (fresh).
    for (const [id, mtime] of [['w_0000000000deadbeef', old], ['w_0000000001cafecafe', null]] as const) {
      const dir = join(first.dataDir, 'workers', id);
      mkdirSync(join(dir, 'root', 'state'), { recursive: true });
      writeFileSync(join(dir, 'root', 'state', 'x'), 'x');
      if (mtime) utimesSync(dir, mtime, mtime);
    }
    // A create that crashed after winning its name, before its record.
    await reg.put('worker-name/rec/ghost', { id: 'w_0000000002feedfeed', node: first.node.ctx.nodeId, createdAt: new Date(old * 1000).toISOString() });
  } finally {
    await first.close();
  }

  const second = await startTestServer({ dataDir: data.path });
  try {
    const c = second.client;
    const workers = (await c.json<{ workers: WorkerRecord[] }>('GET', '/v1/workers')).workers;
    assert.deepEqual(workers.map((w) => w.name).sort(), ['keep', 'was-running']);
    assert.ok(workers.every((w) => w.node === second.node.ctx.nodeId));
    // `keep` had a live instance: closing the first node paused it. The stale `running` mark is reset.
    assert.deepEqual(Object.fromEntries(workers.map((w) => [w.name, w.status])), { keep: 'paused', 'was-running': 'idle' });
    assert.equal(existsSync(join(data.path, 'workers', 'w_0000000000deadbeef')), false, 'old orphan dir removed');
    assert.equal(existsSync(join(data.path, 'workers', 'w_0000000001cafecafe')), true, 'a fresh one may be in flight: kept');
    assert.equal(existsSync(join(data.path, 'workers', halfDeleted.id)), false, 'interrupted delete finished');
    assert.equal(await second.node.ctx.ports.registry.get(`worker/${halfDeleted.id}`), null);
    assert.equal(await second.node.ctx.ports.registry.get('worker-name/rec/ghost'), null, 'dangling name freed');
    await createWorker(c, 'rec.app', 'ghost');
    await createWorker(c, 'rec.app', 'half-deleted');
    // The kept worker's files and (through its pause at close) its memory outlived the restart.
    assert.equal(await fileText(c, keep.id, '/state/count.txt'), '1\n');
    assert.equal(await call(c, keep.id, 'increment'), 2);
    assert.equal(await fileText(c, keep.id, '/state/count.txt'), '1\n2\n');
  } finally {
    await second.close();
  }
});

test('recovery is part of opening the node, not of registering the worker routes', async () => {
  const dir = makeTempDir('warren-workers-recovery-open-');
  try {
    const first = await startTestServer({ dataDir: dir.path });
    let running: WorkerRecord;
    try {
      await pushTestComponent(first.client, work.path, 'rec', 'open', '1.0.0', { files: { 'state/count.txt': '' }, modes: { '/state/count.txt': 'read-write' } });
      running = await createWorker(first.client, 'rec.open', 'was-running');
      await first.node.ctx.ports.registry.put(`worker/${running.id}`, { ...running, status: 'running' });
    } finally {
      await first.close();
    }
    // No HTTP app at all: a --local command or a service that opens the node on its own.
    const node = await WarrenNode.open({ dataDir: dir.path, jobThreads: 1 });
    try {
      const record = await node.ctx.ports.registry.get<WorkerRecord>(`worker/${running.id}`);
      assert.equal(record?.value.status, 'idle', 'the stale running mark was reset by WarrenNode.open');
    } finally {
      await node.close();
    }
  } finally {
    dir.dispose();
  }
});

test("node start removes the shared trees of deleted versions and keeps the ones a version still names; a worker's tree is placed again if it went missing", async () => {
  const dir = makeTempDir('warren-workers-recovery-trees-');
  try {
    const trees = join(dir.path, 'trees');
    const first = await startTestServer({ dataDir: dir.path });
    let w: WorkerRecord;
    let keptTree: string;
    try {
      const c = first.client;
      await pushTestComponent(c, work.path, 'rec', 'trees', '1.0.0', { files: { 'static/greeting.txt': 'one\n' } });
      await pushTestComponent(c, work.path, 'rec', 'trees', '2.0.0', { files: { 'static/greeting.txt': 'two\n' } });
      w = await createWorker(c, 'rec.trees', 'user', { version: '1.0.0' });
      keptTree = readdirSync(trees)[0]!;
      // A worker of 2.0.0 places its tree, then goes, and so does its version.
      const gone = await createWorker(c, 'rec.trees', 'passer-by', { version: '2.0.0' });
      assert.equal(readdirSync(trees).length, 2);
      await c.json('DELETE', `/v1/workers/${gone.id}`);
      await c.json('DELETE', '/v1/components/rec.trees/versions/2.0.0');
      mkdirSync(join(trees, `${keptTree}.tmp-1-deadbeef`)); // a placement a crash cut short
    } finally {
      await first.close();
    }
    const second = await startTestServer({ dataDir: dir.path });
    try {
      assert.deepEqual(readdirSync(trees), [keptTree], "only the tree of the version that still exists");
      assert.equal(await fileText(second.client, w.id, '/static/greeting.txt'), 'one\n');
    } finally {
      await second.close();
    }
    // Removed by hand while the node was stopped: the next start places it again on demand.
    rmSync(join(trees, keptTree), { recursive: true });
    const third = await startTestServer({ dataDir: dir.path });
    try {
      assert.equal(await call(third.client, w.id, 'write_ro'), -ERRNO.EROFS, 'the guest sees the placed tree, read-only');
      assert.equal(await fileText(third.client, w.id, '/static/greeting.txt'), 'one\n');
      assert.deepEqual(readdirSync(trees), [keptTree]);
    } finally {
      await third.close();
    }
  } finally {
    dir.dispose();
  }
});

