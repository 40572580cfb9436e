import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerRecord } from '../../src/records.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { call, createWorker, pushTestComponent } from '../workers/worker-fixtures.js';
import { pushComponentWasm } from './component-fixtures.js';

// Moves need shared guest threads, which need the deadline addon (see test/workers/shared-threads.test.ts).
const skip = process.env.WARREN_NO_NATIVE === '1' ? 'WARREN_NO_NATIVE=1: no deadline addon, live workers get a thread each' : false;
const work = makeTempDir('warren-comp-move-');
let server: TestServer | undefined;
after(async () => {
  await server?.close();
  work.dispose();
});

/** Resolves once `cond` holds, checking at every turn of the event loop (no clock involved). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((resolve) => setImmediate(resolve));
}

test("a component worker waiting behind another worker's call moves to an idle thread with its JS Map", { skip, timeout: 90_000 }, async () => {
  server = await startTestServer({ guestThreads: 2 });
  const c = server.client;
  await pushTestComponent(c, work.path, 'pool', 'app', '1.0.0', { files: { 'state/count.txt': '' }, modes: { '/state/count.txt': 'read-write' } });
  const pushed = await pushComponentWasm(c, work.path, 'comp', 'shop', 'typed.component.wasm');
  assert.equal(pushed.status, 201, JSON.stringify(pushed.body));
  const threads = server.node.ctx.pool.instances!;
  const blocker = await createWorker(c, 'pool.app', 'blocker');
  const other = await createWorker(c, 'pool.app', 'other');
  const shop = await c.json<WorkerRecord>('POST', '/v1/workers', { component: 'comp.shop', name: 'shop' });
  const typed = (fn: string, args: unknown[]) => c.json<{ result: unknown }>('POST', `/v1/workers/${shop.id}/invoke`, { function: fn, args });
  assert.equal(await call(c, blocker.id, 'increment'), 1);
  assert.equal(await call(c, other.id, 'increment'), 1);
  assert.equal((await typed('add', ['apple', 3])).result, 3);
  assert.deepEqual(threads.instancesPerThread, [2, 1], 'blocker and shop share the first thread');

  const waiting = call(c, blocker.id, "wait_go");
  try {
    await until(() => threads.busyThreads === 1);
    // shop's call would wait for wait_go, which waits for the test: it moves, and answers.
    assert.deepEqual((await typed('items', [])).result, [{ name: 'apple', count: 3 }], 'the Map moved with the instance');
    assert.deepEqual([threads.stats.moves, threads.stats.failedMoves], [1, 0]);
    assert.deepEqual(threads.instancesPerThread, [1, 2]);
    assert.equal((await typed('add', ['apple', 1])).result, 4);
  } finally {
    writeFileSync(join(server.dataDir, 'workers', blocker.id, 'root', 'go'), '');
  }
  assert.equal(await waiting, 1);
});
