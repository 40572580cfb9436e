import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAll } from '../../src/cli/api-client.js';
import { readFileTree } from '../../src/manifest/file-tree.js';
import type { SnapshotRecord } from '../../src/records.js';
import { invokeWorker } from '../../src/services/instances/invoke-worker.js';
import { snapshotKey } from '../../src/services/snapshots/snapshot-keys.js';
import { workerPaths } from '../../src/services/workers/worker-keys.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { ChildServer, runningServers } from '../hostile/child-server.js';
import { createWorker, failure } from '../workers/worker-fixtures.js';
import { commit, fork, pause, pushSnapComponent, resume, showWorker } from '../snapshots/snapshot-fixtures.js';

/**
 * Full snapshots of component workers: the componentize-js guest's JS Map (in its one linear
 * memory, behind the glue's tables) and a C guest's open file (an fd of the preview1 host under
 * a descriptor handle of the adapter) come back after pause/resume, a commit and a server
 * restart, and in a fork.
 */
const data = makeTempDir('warren-comp-snap-data-');
const work = makeTempDir('warren-comp-snap-work-');
let server: TestServer;

before(async () => {
  server = await startTestServer({ dataDir: data.path });
  await pushSnapComponent(server.client, work.path, { name: 'shop', wasm: 'typed.component.wasm', memory: '256MiB' });
  await pushSnapComponent(server.client, work.path, { name: 'reader', wasm: 'worker_reader.component.wasm', memory: '64MiB' });
});
after(async () => {
  await Promise.all([...runningServers].map((s) => s.kill()));
  await server.close();
  data.dispose();
  work.dispose();
});

const call = async (id: string, fn: string, args: unknown[]) =>
  (await server.client.json<{ result: unknown; resumedFrom: string | null }>('POST', `/v1/workers/${id}/invoke`, { function: fn, args }));

/** A stdin call of a command worker: its stdout. */
async function read(id: string, n: number): Promise<string> {
  const res = await server.client.raw('POST', `/v1/workers/${id}/invoke?stdin=1`, Buffer.from(`${n}\n`), { 'content-type': 'application/octet-stream' });
  const out = (await readAll(res.body)).toString('utf8');
  assert.equal(res.headers['x-warren-exit-code'], '0', `exit code of the read (stderr ${String(res.headers['x-warren-stderr'])})`);
  return out;
}

test('a component worker keeps its JS Map through a full pause/resume, a commit, a server restart and a fork', async () => {
  let c = server.client;
  const w = await createWorker(c, 'sh.snap.shop', 'shop-1');
  assert.equal((await call(w.id, 'add', ['apple', 3])).result, 3);
  assert.equal((await call(w.id, 'add', ['pear', 2])).result, 2);

  const p = await pause(c, w.id);
  assert.deepEqual([p.worker.status, p.snapshot?.scope], ['paused', 'full']);
  assert.ok(p.stats && p.stats.pagesWritten > 0);
  const back = await call(w.id, 'items', []);
  assert.deepEqual(back.result, [{ name: 'apple', count: 3 }, { name: 'pear', count: 2 }], 'the Map came back');
  assert.equal(back.resumedFrom, p.snapshot!.id);
  assert.equal((await call(w.id, 'add', ['apple', 1])).result, 4, 'and the guest goes on from it');

  const cm = await commit(c, w.id);
  assert.equal(cm.snapshot.scope, 'full');
  assert.equal((await call(w.id, 'add', ['fig', 1])).result, 1, 'a commit leaves the instance live');
  assert.ok(cm.stats.pagesWritten < cm.stats.pages || cm.stats.pagesWritten > 0);

  const f = await fork(c, w.id, 'shop-fork');
  assert.deepEqual((await call(f.worker.id, 'items', [])).result, [{ name: 'apple', count: 4 }, { name: 'pear', count: 2 }], 'the fork has the Map of the commit');
  assert.equal((await call(f.worker.id, 'add', ['kiwi', 7])).result, 7);
  assert.deepEqual((await call(w.id, 'items', [])).result, [{ name: 'apple', count: 4 }, { name: 'pear', count: 2 }, { name: 'fig', count: 1 }], 'the two diverge');

  // A new server on the same data dir: closing the first paused every live worker.
  await server.close();
  server = await startTestServer({ dataDir: data.path });
  c = server.client;
  assert.equal((await showWorker(c, w.id)).status, 'paused');
  const restarted = await call(w.id, 'items', []);
  assert.deepEqual(restarted.result, [{ name: 'apple', count: 4 }, { name: 'pear', count: 2 }, { name: 'fig', count: 1 }]);
  assert.ok(restarted.resumedFrom);
  assert.deepEqual((await call(f.worker.id, 'take', ['kiwi', 2])).result, { ok: 5 });
});

test('a component worker\'s open file comes back at its position: pause/resume, commit, fork', async () => {
  const c = server.client;
  const w = await createWorker(c, 'sh.snap.reader', 'reader-1');
  assert.equal(await read(w.id, 4), '0123');
  await pause(c, w.id);
  assert.equal((await showWorker(c, w.id)).status, 'paused');
  assert.equal(await read(w.id, 3), '456', 'the descriptor and its position came back');
  await pause(c, w.id);
  const r = await resume(c, w.id);
  assert.equal(r.resumed, true);
  assert.equal(await read(w.id, 2), '78');
  const cm = await commit(c, w.id);
  assert.equal(cm.snapshot.scope, 'full');
  const f = await fork(c, w.id, 'reader-fork');
  assert.equal(await read(f.worker.id, 5), '9abcd', "the fork's file was reopened in its own dir, at the commit's position");
  assert.equal(await read(w.id, 1), '9', 'the source goes on from its own');
});

test('an uncapturable component state (two linear memories) fails the snapshot with E_SNAPSHOT_FAILED and leaves the worker as it was', async () => {
  const c = server.client;
  await pushSnapComponent(c, work.path, { name: 'twomem', wasm: 'two_memories.component.wasm' });
  const w = await createWorker(c, 'sh.snap.twomem', 'twomem-1');
  assert.equal((await call(w.id, 'bump', [])).result, 1);
  assert.equal((await call(w.id, 'bump-other', [])).result, 10);
  const err = await failure(c.json('POST', `/v1/workers/${w.id}/pause`, {}));
  assert.equal(err.code, 'E_SNAPSHOT_FAILED');
  assert.match(err.message, /2 linear memories/);
  const still = await showWorker(c, w.id);
  assert.notEqual(still.status, 'paused');
  assert.equal(still.lastSnapshot ?? null, null, 'no snapshot was recorded');
  const next = await call(w.id, 'bump', []);
  assert.deepEqual([next.result, next.resumedFrom], [2, null], 'the instance lived on, its memory as it was');
  assert.equal((await call(w.id, 'bump-other', [])).result, 20);
  assert.equal((await failure(c.json('POST', `/v1/workers/${w.id}/commit`, {}))).code, 'E_SNAPSHOT_FAILED');
  assert.equal((await call(w.id, 'bump', [])).result, 3);
});

test('on_call = "full": every acknowledged call of a component worker survives a SIGKILL of its node', async () => {
  const dir = makeTempDir('warren-comp-oncall-');
  let child = await ChildServer.start(dir.path);
  try {
    await pushSnapComponent(child.client, work.path, { name: 'oncall', wasm: 'typed.component.wasm', memory: '256MiB', onCall: 'full' });
    const w = await createWorker(child.client, 'sh.snap.oncall', 'oncall-1');
    const add = (c: ChildServer, name: string, n: number) =>
      c.client.json<{ result: unknown; committed: string | null }>('POST', `/v1/workers/${w.id}/invoke`, { function: 'add', args: [name, n] });
    const first = await add(child, 'apple', 2);
    assert.equal(first.result, 2);
    assert.ok(first.committed, 'acknowledged after its snapshot');
    assert.equal((await add(child, 'apple', 3)).result, 5);
    await child.kill();
    child = await ChildServer.start(dir.path);
    const items = await child.client.json<{ result: unknown }>('POST', `/v1/workers/${w.id}/invoke`, { function: 'items', args: [] });
    assert.deepEqual(items.result, [{ name: 'apple', count: 5 }], 'the Map of the last acknowledged call');
  } finally {
    await child.kill();
    dir.dispose();
  }
});

test('an on_call snapshot of a component worker walks only the mounts its call may have changed', async () => {
  const ctx = server.node.ctx;
  await pushSnapComponent(server.client, work.path, { name: 'readeroc', wasm: 'worker_reader.component.wasm', memory: '64MiB', onCall: 'full' });
  const w = await createWorker(server.client, 'sh.snap.readeroc', 'reader-oc');
  const readAndSnapshot = async (n: number) => {
    const out: Buffer[] = [];
    const r = await invokeWorker(ctx, w.id, { stdin: Buffer.from(`${n}\n`), onStdout: (c) => out.push(Buffer.from(c)) });
    assert.ok(r.committed, 'acknowledged after its snapshot');
    const snap = (await ctx.ports.registry.get<SnapshotRecord>(snapshotKey(r.committed)))!.value;
    const tree = await readFileTree(ctx.ports.blobs, snap.files!);
    return { out: Buffer.concat(out).toString('utf8'), files: snap.files, paths: tree.entries.map((e) => e.path) };
  };
  const first = await readAndSnapshot(2);
  assert.equal(first.out, '01');
  assert.ok(first.paths.includes('/data/story.txt'), 'the first call wrote /data/story.txt (through wasi:filesystem)');
  // Behind the guest's back: a call that changes no file takes the last snapshot's tree as it was.
  writeFileSync(join(workerPaths(ctx, w.id).root, 'behind.txt'), 'host\n');
  const second = await readAndSnapshot(3);
  assert.equal(second.out, '234');
  assert.equal(second.files, first.files, 'a read changed no mount: the tree was not walked again');
});
