import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient } from '../../src/cli/api-client.js';
import { collectGarbage } from '../../src/services/gc/collect-garbage.js';
import { verifyStore } from '../../src/services/gc/verify-store.js';
import type { SnapshotRecord } from '../../src/records.js';
import { startTestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { createWorker, failure, fileText } from '../workers/worker-fixtures.js';
import { commit, fork, invoke, pause, pushSnapComponent, resume, showWorker, value } from './snapshot-fixtures.js';

test('full scope: memory, durable dir, new root files and an open fd offset survive pause/resume, commit, fork, a lost instance and a server restart', async () => {
  const data = makeTempDir('warren-snap-data-');
  const work = makeTempDir('warren-snap-work-');
  let server = await startTestServer({ dataDir: data.path });
  try {
    let c = server.client;
    await pushSnapComponent(c, work.path, { name: 'counter' });
    const w = await createWorker(c, 'sh.snap.counter', 'c1');

    // Memory + durable dir through pause and the transparent resume of the next call.
    assert.equal(await value(c, w.id, 'grow', [512]), 1, '512 KiB of pages that no later call changes');
    for (let i = 1; i <= 3; i++) assert.equal(await value(c, w.id, 'increment'), i);
    assert.equal(await value(c, w.id, 'write_scratch', [42]), 0);
    const p1 = await pause(c, w.id);
    assert.equal(p1.changed, true);
    assert.equal(p1.worker.status, 'paused');
    assert.equal(p1.snapshot?.kind, 'pause');
    assert.equal(p1.snapshot?.scope, 'full');
    assert.ok(p1.stats && p1.stats.pagesWritten > 0);
    assert.equal((await showWorker(c, w.id)).lastSnapshot, p1.snapshot!.id);
    assert.equal((await pause(c, w.id)).changed, false, 'pausing a paused worker is a no-op');
    const first = await invoke(c, w.id, 'get');
    assert.deepEqual([first.value, first.resumedFrom], [3, p1.snapshot!.id], 'the call resumed the paused worker from its pause');
    assert.equal((await showWorker(c, w.id)).status, 'idle');
    assert.equal(await value(c, w.id, 'file_count'), 3);
    assert.equal(await value(c, w.id, 'read_scratch'), 42, 'a file the guest created in the root is part of a full snapshot');

    // A second pause writes only the pages that changed.
    assert.equal(await value(c, w.id, 'increment'), 4);
    const p2 = await pause(c, w.id);
    assert.ok(p2.stats!.pagesWritten < p2.stats!.pages, `second pause wrote ${p2.stats!.pagesWritten} of ${p2.stats!.pages} pages`);
    assert.ok(p2.stats!.pagesWritten < p1.stats!.pagesWritten);
    const r = await resume(c, w.id);
    assert.deepEqual([r.resumed, r.how, r.snapshot, r.worker.status], [true, 'resumed', p2.snapshot!.id, 'idle']);
    assert.equal((await resume(c, w.id)).resumed, false, 'resuming a live worker is a no-op');
    assert.equal(await value(c, w.id, 'get'), 4);

    // An open file's offset (WASI fd state) survives a full pause/resume.
    assert.equal(await value(c, w.id, 'write_lines', [6]), 6);
    assert.ok((await value(c, w.id, 'open_lines')) >= 3);
    assert.equal(await value(c, w.id, 'next_line'), 1);
    await pause(c, w.id);
    assert.equal(await value(c, w.id, 'next_line'), 2, 'the next call reads the next line: the fd offset came back');

    // Commit: into the cluster store, listed, the instance stays live.
    const c1 = await commit(c, w.id);
    assert.deepEqual([c1.snapshot.kind, c1.snapshot.scope, c1.worker.status, c1.worker.lastCommit, c1.worker.lastSnapshot], ['commit', 'full', 'idle', c1.snapshot.id, c1.snapshot.id]);
    const again = await invoke(c, w.id, 'next_line');
    assert.deepEqual([again.value, again.resumedFrom, again.started], [3, null, false], 'commit leaves the instance live');
    const list = await c.json<{ snapshots: SnapshotRecord[]; lastCommit: string }>('GET', `/v1/workers/${w.id}/snapshots`);
    assert.deepEqual(list.snapshots.map((s) => s.id), [c1.snapshot.id], 'only commits are listed');
    assert.equal(list.lastCommit, c1.snapshot.id);
    const withPauses = await c.json<{ snapshots: SnapshotRecord[] }>('GET', `/v1/workers/${w.id}/snapshots?pauses=true`);
    assert.ok(withPauses.snapshots.length >= 4);

    // A lost instance (trap) goes back to the last snapshot: memory, root files and fd offset of
    // the commit; the durable dir keeps the write of the acknowledged call after it.
    assert.equal(await value(c, w.id, 'increment'), 5);
    assert.equal((await failure(c.json('POST', `/v1/workers/${w.id}/invoke`, { export: 'crash', args: [] }))).code, 'E_TRAP');
    assert.equal((await showWorker(c, w.id)).status, 'failed');
    const back = await invoke(c, w.id, 'get');
    assert.deepEqual([back.value, back.resumedFrom], [4, c1.snapshot.id]);
    assert.equal(await value(c, w.id, 'file_count'), 5, 'the durable dir is never rolled back by a lost instance');
    assert.equal(await value(c, w.id, 'next_line'), 3, 'and the fd offset');

    // Fork: a new worker restored from the commit; then the two diverge.
    const f = await fork(c, w.id, 'c1-fork');
    assert.deepEqual([f.worker.status, f.worker.lastCommit, f.snapshot.id], ['paused', c1.snapshot.id, c1.snapshot.id]);
    assert.notEqual(f.worker.id, w.id);
    assert.equal((await fileText(c, f.worker.id, '/data/count.txt')).trim(), '4', 'the fork has the snapshot files before its first call');
    assert.equal(await value(c, f.worker.id, 'get'), 4);
    assert.equal(await value(c, f.worker.id, 'next_line'), 3, "the fork's fd was reopened in its own dir");
    assert.equal(await value(c, f.worker.id, 'increment'), 5);
    assert.equal(await value(c, f.worker.id, 'increment'), 6);
    assert.equal(await value(c, w.id, 'increment'), 5);
    assert.equal(await value(c, f.worker.id, 'file_count'), 6);
    assert.equal(await value(c, w.id, 'file_count'), 5);
    assert.equal(await value(c, w.id, 'read_scratch'), 42);
    assert.equal((await failure(fork(c, w.id, 'c1-fork'))).code, 'E_ALREADY_EXISTS');
    assert.equal((await failure(fork(c, w.id, 'bad', p2.snapshot!.id))).code, 'E_SNAPSHOT_INVALID', 'a pause is not forkable');
    assert.equal((await failure(fork(c, w.id, 'bad', 'nope'))).code, 'E_NOT_FOUND');

    // A new server on the same data dir: closing the first paused every live worker.
    await server.close();
    server = await startTestServer({ dataDir: data.path });
    c = server.client;
    assert.equal((await showWorker(c, w.id)).status, 'paused');
    assert.equal((await showWorker(c, f.worker.id)).status, 'paused');
    // GC with no grace keeps every blob the snapshots to resume from need.
    const gc = await collectGarbage({ blobs: server.node.ctx.ports.blobs, registry: server.node.ctx.ports.registry, engineId: server.node.ctx.engineId, graceMs: 0 });
    assert.deepEqual(gc.missing, []);
    const after = await invoke(c, w.id, 'get');
    assert.equal(after.value, 5);
    assert.ok(after.resumedFrom);
    assert.equal(await value(c, f.worker.id, 'get'), 6);
    assert.equal(await value(c, w.id, 'next_line'), 4);

    const verify = await verifyStore({ blobs: server.node.ctx.ports.blobs, registry: server.node.ctx.ports.registry });
    assert.deepEqual([verify.missing, verify.corrupt], [[], []]);
  } finally {
    await server.close();
    data.dispose();
    work.dispose();
  }
});

test('data scope keeps the durable dir but not memory; a data commit of a paused worker keeps its full pause as the state to resume', async () => {
  const work = makeTempDir('warren-snap-work-');
  const server = await startTestServer();
  try {
    const c: ApiClient = server.client;
    await pushSnapComponent(c, work.path, { name: 'datacounter', onPause: 'data' });
    const w = await createWorker(c, 'sh.snap.datacounter', 'd1');
    for (let i = 1; i <= 3; i++) await value(c, w.id, 'increment');
    const p = await pause(c, w.id);
    assert.deepEqual([p.snapshot?.scope, p.snapshot?.memory, p.snapshot?.state], ['data', null, null]);
    assert.equal(await value(c, w.id, 'get'), 0, 'memory starts fresh (_initialize) after a data resume');
    assert.equal(await value(c, w.id, 'file_count'), 3, 'the durable dir is kept');
    const cm = await commit(c, w.id);
    assert.equal(cm.snapshot.scope, 'data');

    await pushSnapComponent(c, work.path, { name: 'mixed', onPause: 'full', onCommit: 'data' });
    const m = await createWorker(c, 'sh.snap.mixed', 'm1');
    for (let i = 1; i <= 2; i++) await value(c, m.id, 'increment');
    const mp = await pause(c, m.id);
    const mc = await commit(c, m.id);
    assert.deepEqual([mc.snapshot.scope, mc.worker.status, mc.worker.lastSnapshot, mc.worker.lastCommit], ['data', 'paused', mp.snapshot!.id, mc.snapshot.id]);
    assert.equal(await value(c, m.id, 'get'), 2, 'resumed from the full pause, not the data commit');
    const f = await fork(c, m.id, 'm1-fork');
    assert.equal(await value(c, f.worker.id, 'get'), 0, 'a fork of a data commit starts fresh');
    assert.equal(await value(c, f.worker.id, 'file_count'), 2, 'with the durable dir of the commit');
  } finally {
    await server.close();
    work.dispose();
  }
});
