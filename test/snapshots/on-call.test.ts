import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiClient } from '../../src/cli/api-client.js';
import { isWarrenError } from '../../src/errors.js';
import type { RecordedCall, WorkerRecord } from '../../src/records.js';
import { findRecordedCall, withRecordedCall, MAX_RECORDED_CALLS } from '../../src/services/workers/idempotent-calls.js';
import { invokeWorker } from '../../src/services/instances/invoke-worker.js';
import { ChildServer, prng, runningServers } from '../hostile/child-server.js';
import { startTestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { createWorker, failure } from '../workers/worker-fixtures.js';
import { pushSnapComponent } from './snapshot-fixtures.js';

/** CI runs 10 kill rounds; `WARREN_HOSTILE_LONG=1` runs 50. */
const ROUNDS = process.env.WARREN_HOSTILE_LONG === '1' ? 50 : 10;
const work = makeTempDir('warren-on-call-');
after(async () => {
  await Promise.all([...runningServers].map((s) => s.kill()));
  work.dispose();
});

async function call(c: ApiClient, id: string, exportName: string, key?: string): Promise<{ value: number; replayed: boolean; committed: string | null }> {
  const res = await c.json<{ returns: number[]; replayed: boolean; committed: string | null }>('POST', `/v1/workers/${id}/invoke`, { export: exportName, args: [] }, key ? { 'idempotency-key': key } : {});
  return { value: res.returns[0]!, replayed: res.replayed, committed: res.committed };
}

const lost = (err: unknown) => !isWarrenError(err) || err.code === 'E_UNAVAILABLE' || (err.code === 'E_INTERNAL' && !err.details.status);

test(`on_call = "full": ${ROUNDS} SIGKILLs during keyed calls lose no acknowledged call, and a retry by key runs the call once in all`, async () => {
  const random = prng(17);
  const data = makeTempDir('warren-on-call-data-');
  let server = await ChildServer.start(data.path);
  await pushSnapComponent(server.client, work.path, { name: 'oncall', onCall: 'full' });
  const w = await server.client.json<WorkerRecord>('POST', '/v1/workers', { component: 'sh.snap.oncall', name: 'oc' });
  let keys = 0;
  let lastAcked = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const killAfter = 1 + Math.floor(random() * 6);
      const delayMs = Math.floor(random() * 40);
      let inFlight: string | null = null;
      let acks = 0;
      const s = server;
      await (async () => {
        for (;;) {
          const key = `r${round}-${keys}`;
          inFlight = key;
          keys++;
          try {
            const r = await call(s.client, w.id, 'increment', key);
            assert.equal(r.replayed, false);
            assert.ok(r.committed, 'acknowledged after its snapshot');
            assert.equal(r.value, keys, `every key so far ran once: ${key}`);
            lastAcked = r.value;
            inFlight = null;
            if (++acks === killAfter) void sleep(delayMs).then(() => s.kill());
          } catch (err) {
            if (lost(err)) return;
            throw err;
          }
        }
      })();
      await s.kill();
      server = await ChildServer.start(data.path);
      const now = await call(server.client, w.id, 'get');
      assert.ok(now.value >= lastAcked, `round ${round}: the worker says ${now.value}, but ${lastAcked} was acknowledged`);
      // The call cut off by the kill is retried with its key: it ran once, now or before the kill.
      const retried = await call(server.client, w.id, 'increment', inFlight!);
      assert.equal(retried.value, keys, `round ${round}: ${keys} keys were sent, each must have run once`);
      assert.equal((await call(server.client, w.id, 'get')).value, keys);
      if (retried.replayed) assert.equal(now.value, keys, 'replayed: the cut-off call had been made durable before the kill');
      lastAcked = keys;
      const verify = await server.verify();
      assert.equal(verify.code, 0, verify.stdout);
    }
  } finally {
    await server.kill();
    data.dispose();
  }
});

test('on_call = "data": after a SIGKILL memory starts fresh, the durable dir has every acknowledged call', async () => {
  const data = makeTempDir('warren-on-call-data-');
  let server = await ChildServer.start(data.path);
  try {
    await pushSnapComponent(server.client, work.path, { name: 'oncalldata', onPause: 'data', onCall: 'data' });
    const w = await server.client.json<WorkerRecord>('POST', '/v1/workers', { component: 'sh.snap.oncalldata', name: 'od' });
    for (let i = 1; i <= 5; i++) assert.equal((await call(server.client, w.id, 'increment')).value, i);
    await server.kill();
    server = await ChildServer.start(data.path);
    assert.equal((await call(server.client, w.id, 'get')).value, 0, 'memory is not kept by a data snapshot');
    assert.equal((await call(server.client, w.id, 'file_count')).value, 5);
  } finally {
    await server.kill();
    data.dispose();
  }
});

test('idempotency keys without on_call: a retry replays, a concurrent duplicate joins, a bad key is refused, a queued call can be cancelled', async () => {
  const data = makeTempDir('warren-idem-');
  const server = await startTestServer({ dataDir: data.path });
  try {
    const c = server.client;
    await pushSnapComponent(c, work.path, { name: 'idem' });
    const w = await createWorker(c, 'sh.snap.idem', 'i1');
    const first = await call(c, w.id, 'increment', 'once');
    assert.deepEqual([first.value, first.replayed, first.committed], [1, false, null]);
    const again = await call(c, w.id, 'increment', 'once');
    assert.deepEqual([again.value, again.replayed], [1, true]);
    const both = await Promise.all([call(c, w.id, 'increment', 'twin'), call(c, w.id, 'increment', 'twin')]);
    assert.deepEqual(both.map((b) => b.value), [2, 2], 'one run for two concurrent calls with one key');
    assert.equal((await call(c, w.id, 'get')).value, 2);
    assert.equal((await failure(call(c, w.id, 'increment', 'has space'))).code, 'E_BAD_REQUEST');

    // A call queued behind another can be cancelled by its key; a running one cannot.
    const ctx = server.node.ctx;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const blocker = ctx.live.enqueue(w.id, () => gate);
    const queued = invokeWorker(ctx, w.id, { export: 'increment', idempotencyKey: 'later' }).catch((e: unknown) => e);
    const res = await c.json<{ cancelled: boolean }>('DELETE', `/v1/workers/${w.id}/invocations/later`);
    assert.equal(res.cancelled, true);
    assert.equal((await failure(c.json('DELETE', `/v1/workers/${w.id}/invocations/nope`))).code, 'E_NOT_FOUND');
    release();
    await blocker;
    const outcome = await queued;
    assert.ok(isWarrenError(outcome, 'E_CANCELLED'), String(outcome));
    assert.equal((await call(c, w.id, 'get')).value, 2, 'the cancelled call never ran');
  } finally {
    await server.close();
    data.dispose();
  }
});

test('recorded calls expire after the window and are bounded per worker', () => {
  const at = (ms: number): RecordedCall => ({ at: new Date(ms).toISOString(), version: '1.0.0', returns: [ms] });
  const day = 24 * 60 * 60_000;
  let calls = withRecordedCall(undefined, 'a', at(0), 0);
  assert.ok(findRecordedCall(calls, 'a', day - 1));
  assert.equal(findRecordedCall(calls, 'a', day), null, 'gone after 24 h');
  calls = withRecordedCall(calls, 'b', at(day + 1), day + 1);
  assert.deepEqual(Object.keys(calls), ['b'], 'expired keys are dropped when a key is added');
  for (let i = 0; i < MAX_RECORDED_CALLS + 10; i++) calls = withRecordedCall(calls, `k${i}`, at(day + 2 + i), day + 2 + i);
  assert.equal(Object.keys(calls).length, MAX_RECORDED_CALLS);
  assert.ok(calls[`k${MAX_RECORDED_CALLS + 9}`] && !calls.k0, 'the oldest go first');
});
