import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiClient } from '../../src/cli/api-client.js';
import { startTestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { createWorker, failure } from '../workers/worker-fixtures.js';
import { commit, invoke, pause, pushSnapComponent, value, type SnapComponent } from './snapshot-fixtures.js';

/**
 * A lost instance (here a trap) brings memory and the root's writable files back from one point;
 * durable dirs keep every acknowledged write. `/scratch.txt` is a read-write initial file holding
 * 9; `/data` is the durable dir (increment writes the counter there).
 */

/** A server on a fresh data dir, the fixture pushed as `sh.snap.<name>` (plus `more` versions), one worker of it. */
async function withWorker(spec: SnapComponent, body: (c: ApiClient, id: string) => Promise<void>, more: SnapComponent[] = []): Promise<void> {
  const data = makeTempDir('warren-lost-data-');
  const work = makeTempDir('warren-lost-work-');
  const server = await startTestServer({ dataDir: data.path });
  try {
    const rwFiles = { '/scratch.txt': '9\n' };
    for (const s of [spec, ...more]) await pushSnapComponent(server.client, work.path, { rwFiles, ...s });
    const w = await createWorker(server.client, `sh.snap.${spec.name}`, `${spec.name}-1`);
    await body(server.client, w.id);
  } finally {
    await server.close();
    data.dispose();
    work.dispose();
  }
}

async function crash(c: ApiClient, id: string): Promise<void> {
  assert.equal((await failure(c.json('POST', `/v1/workers/${id}/invoke`, { export: 'crash', args: [] }))).code, 'E_TRAP');
}

test('a worker with no snapshot that traps comes back with its initial root files, its durable dir as its calls left it', async () => {
  await withWorker({ name: 'lost' }, async (c, id) => {
    assert.equal(await value(c, id, 'read_scratch'), 9, 'the initial file');
    assert.equal(await value(c, id, 'write_scratch', [7]), 0);
    assert.equal(await value(c, id, 'increment'), 1);
    assert.equal(await value(c, id, 'increment'), 2);
    await crash(c, id);
    const back = await invoke(c, id, 'get');
    assert.deepEqual([back.value, back.started, back.resumedFrom], [0, true, null], 'fresh memory: there is no snapshot');
    assert.equal(await value(c, id, 'read_scratch'), 9, 'the root file went back to its initial bytes with memory');
    assert.equal(await value(c, id, 'file_count'), 2, 'the durable dir keeps both acknowledged writes');

    // A second trap right after a start (nothing written in between) changes nothing either.
    await crash(c, id);
    assert.equal(await value(c, id, 'read_scratch'), 9);
    assert.equal(await value(c, id, 'file_count'), 2);
  });
});

test('after a full commit, a trap puts the root back to the commit and keeps the durable dir; a pause keeps both', async () => {
  await withWorker({ name: 'lostc' }, async (c, id) => {
    assert.equal(await value(c, id, 'write_scratch', [1]), 0);
    assert.equal(await value(c, id, 'increment'), 1);
    const c1 = await commit(c, id);
    assert.equal(await value(c, id, 'write_scratch', [2]), 0);
    assert.equal(await value(c, id, 'increment'), 2);
    await crash(c, id);
    const back = await invoke(c, id, 'get');
    assert.deepEqual([back.value, back.resumedFrom], [1, c1.snapshot.id]);
    assert.equal(await value(c, id, 'read_scratch'), 1, 'root file of the commit, as memory');
    assert.equal(await value(c, id, 'file_count'), 2, 'durable dir not rolled back');

    // A pause and resume is not a loss: everything is as the pause left it.
    assert.equal(await value(c, id, 'write_scratch', [3]), 0);
    assert.equal(await value(c, id, 'increment'), 2);
    await pause(c, id);
    assert.equal(await value(c, id, 'get'), 2);
    assert.equal(await value(c, id, 'read_scratch'), 3);
    assert.equal(await value(c, id, 'file_count'), 2);
  });
});

test('data scope: a trap restarts memory fresh and puts the root back to its initial files, the durable dir kept', async () => {
  await withWorker({ name: 'lostd', onPause: 'data' }, async (c, id) => {
    assert.equal(await value(c, id, 'increment'), 1);
    await commit(c, id);
    assert.equal(await value(c, id, 'write_scratch', [5]), 0);
    assert.equal(await value(c, id, 'increment'), 2);
    await crash(c, id);
    assert.equal(await value(c, id, 'get'), 0);
    assert.equal(await value(c, id, 'read_scratch'), 9);
    assert.equal(await value(c, id, 'file_count'), 2);
  });
});

test('after an update, a lost instance goes back to the root as the update left it', async () => {
  await withWorker(
    { name: 'lostu' },
    async (c, id) => {
      // Pin the worker to 1.0.0 (createWorker takes the latest): update down, then check the rule.
      await c.json('POST', `/v1/workers/${id}/update`, { version: '1.0.0' });
      assert.equal(await value(c, id, 'write_scratch', [5]), 0);
      await c.json('POST', `/v1/workers/${id}/update`, { version: '1.0.1' });
      assert.equal(await value(c, id, 'read_scratch'), 5, 'rw→rw: kept by the update');
      assert.equal(await value(c, id, 'write_scratch', [6]), 0);
      await crash(c, id);
      assert.equal(await value(c, id, 'read_scratch'), 5, 'the baseline the update recorded, not 9 and not 6');
      assert.equal(await value(c, id, 'get'), 0);
    },
    [{ name: 'lostu', version: '1.0.1' }],
  );
});
