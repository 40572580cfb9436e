import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerRecord } from '../../src/records.js';
import type { LiveWorkers } from '../../src/services/instances/live-workers.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { call, createWorker, pushTestComponent } from '../workers/worker-fixtures.js';

// The live budgets are met before an instance starts: the test watches the live set at the
// moment each instance joins it (no clock involved).
const work = makeTempDir('warren-live-admission-');
const spec = { files: { 'state/count.txt': '' }, modes: { '/state/count.txt': 'read-write' as const } };
const servers: TestServer[] = [];

after(async () => {
  for (const s of servers) await s.close();
  work.dispose();
});

async function server(opts: { maxLiveWorkers?: number; liveMemoryBudgetBytes?: number }): Promise<TestServer> {
  const s = await startTestServer(opts);
  servers.push(s);
  await pushTestComponent(s.client, work.path, 'adm', 'app', '1.0.0', spec);
  return s;
}

/** The largest size the live set reached as instances joined it. */
function watchLiveSize(live: LiveWorkers): { max: number } {
  const seen = { max: live.size };
  const set = live.set.bind(live);
  live.set = (id, inst) => {
    set(id, inst);
    seen.max = Math.max(seen.max, live.size);
  };
  return seen;
}

/** Resolves once `cond` holds, checking at every turn of the event loop. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((resolve) => setImmediate(resolve));
}

const status = async (s: TestServer, id: string) => (await s.client.json<WorkerRecord>('GET', `/v1/workers/${id}`)).status;

/** Under a budget with room for one: a is called, then b; b must start only once a is paused. */
async function oneAfterTheOther(budget: { maxLiveWorkers?: number; liveMemoryBudgetBytes?: number }) {
  const s = await server(budget);
  const seen = watchLiveSize(s.node.ctx.live);
  const a = await createWorker(s.client, 'adm.app', 'a');
  const b = await createWorker(s.client, 'adm.app', 'b');
  assert.equal(await call(s.client, a.id, 'increment'), 1);
  assert.equal(await call(s.client, b.id, 'increment'), 1);
  assert.equal(seen.max, 1, 'b joined the live set only after a left it');
  assert.equal(await status(s, a.id), 'paused', 'a was paused before b started');
  return { s, seen, a, b };
}

test('maxLiveWorkers holds when an instance starts: the least recently used idle one is paused first', async () => {
  const { s, seen, a, b } = await oneAfterTheOther({ maxLiveWorkers: 1 });
  assert.equal(await call(s.client, a.id, 'increment'), 2, 'a comes back with its state');
  assert.equal(seen.max, 1);
  assert.equal(await status(s, b.id), 'paused');
});

test('liveMemoryBudgetBytes holds when an instance starts: the others are brought under it first', async () => {
  await oneAfterTheOther({ liveMemoryBudgetBytes: 1 });
});

test('with every live instance busy a start waits for one to finish; past maxWaitingStarts it is 503 E_BUSY with Retry-After', async () => {
  const s = await server({ maxLiveWorkers: 1 });
  const { live, admission } = s.node.ctx;
  const seen = watchLiveSize(live);
  const busy = await createWorker(s.client, 'adm.app', 'busy');
  const waiter = await createWorker(s.client, 'adm.app', 'waiter');
  const refused = await createWorker(s.client, 'adm.app', 'refused');
  assert.equal(await call(s.client, busy.id, 'increment'), 1);
  admission.maxWaitingStarts = 1;
  // busy runs until the test creates /go in its root.
  const waiting = call(s.client, busy.id, 'wait_go');
  await until(() => live.busy(busy.id));
  const second = call(s.client, waiter.id, 'increment');
  await Promise.race([until(() => admission.waiting === 1), second.then(() => assert.fail('waiter started while busy held the only live place'))]);

  const raw = await fetch(`${s.url}/v1/workers/${refused.id}/invoke`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ export: 'increment', args: [] }),
  });
  assert.equal(raw.status, 503);
  assert.equal(raw.headers.get('retry-after'), '1');
  assert.equal(((await raw.json()) as { error: { code: string } }).error.code, 'E_BUSY');
  assert.equal(await status(s, refused.id), 'idle', 'a refused start leaves the worker as it was');

  writeFileSync(join(s.dataDir, 'workers', busy.id, 'root', 'go'), '');
  assert.equal(await waiting, 1);
  assert.equal(await second, 1, 'the waiting start ran once busy was done');
  assert.equal(seen.max, 1);
  assert.equal(await status(s, busy.id), 'paused');
  assert.equal(admission.starting, 0);
  assert.equal(await call(s.client, refused.id, 'increment'), 1, 'with waiter idle, the refused worker gets its room');
  assert.equal(await status(s, waiter.id), 'paused');
});
