import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiClient } from '../../src/cli/api-client.js';
import { startTestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { createWorker } from '../workers/worker-fixtures.js';
import { invoke, pushSnapComponent, showWorker, value } from './snapshot-fixtures.js';

/**
 * Polls until the worker is paused (eviction runs in the background). The deadline only keeps a
 * regression from hanging the suite: it is far past anything a loaded machine takes.
 */
async function untilPaused(c: ApiClient, id: string): Promise<void> {
  const deadline = Date.now() + 5 * 60_000;
  while (Date.now() < deadline) {
    if ((await showWorker(c, id)).status === 'paused') return;
    await sleep(100);
  }
  assert.fail(`worker ${id} was never paused`);
}

test('past maxLiveWorkers the least recently used worker is paused, and its next call resumes it', async () => {
  const work = makeTempDir('warren-snap-evict-');
  const server = await startTestServer({ maxLiveWorkers: 1 });
  try {
    const c = server.client;
    await pushSnapComponent(c, work.path, { name: 'evicted' });
    const a = await createWorker(c, 'sh.snap.evicted', 'a');
    const b = await createWorker(c, 'sh.snap.evicted', 'b');
    await value(c, a.id, 'increment');
    await value(c, a.id, 'increment');
    await value(c, b.id, 'increment');
    await untilPaused(c, a.id);
    assert.equal((await showWorker(c, b.id)).status, 'idle', 'the worker just called stays live');
    const back = await invoke(c, a.id, 'get');
    assert.equal(back.value, 2);
    assert.ok(back.resumedFrom, 'the call resumed it');
    await untilPaused(c, b.id);
    assert.equal(await value(c, b.id, 'get'), 1);
    assert.ok(server.node.ctx.live.size <= 2);
  } finally {
    await server.close();
    work.dispose();
  }
});

test('a worker idle past idleEvictMs is paused in the background and resumes on its next call', async () => {
  const work = makeTempDir('warren-snap-idle-');
  const server = await startTestServer({ idleEvictMs: 200 });
  try {
    const c = server.client;
    await pushSnapComponent(c, work.path, { name: 'idler' });
    const w = await createWorker(c, 'sh.snap.idler', 'i1');
    for (let i = 0; i < 3; i++) await value(c, w.id, 'increment');
    await untilPaused(c, w.id);
    assert.equal(server.node.ctx.live.size, 0, 'its instance (thread and memory) was freed');
    const back = await invoke(c, w.id, 'get');
    assert.deepEqual([back.value, back.started], [3, false]);
    assert.ok(back.resumedFrom);
  } finally {
    await server.close();
    work.dispose();
  }
});
