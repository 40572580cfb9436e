import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { pushTestComponent } from '../workers/worker-fixtures.js';
import { LONG, bump, summary } from './hostile-config.js';

const counts = summary('many-live-workers');
/** The 10,000 in long mode; 1,000 in CI. */
const WORKERS = Number(process.env.WARREN_MANY_WORKERS ?? (LONG ? 10_000 : 1000));
const CLIENTS = 32;
const GUEST_THREADS = 4;

const work = makeTempDir('warren-hostile-many-');
let server: TestServer;

before(async () => {
  // One host fd per live worker (its root's mount): room for all of them.
  server = await startTestServer({ jobThreads: 1, guestThreads: GUEST_THREADS, guestFds: WORKERS + 1024 });
  await pushTestComponent(server.client, work.path, 'many', 'tiny', '1.0.0', { wasm: 'worker_typed.reactor.wasm', limits: { memory: '1MiB' } });
});
after(async () => {
  await server.close();
  work.dispose();
});

async function withClients(n: number, count: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < count) await task(next++);
  }));
}

const threadsOfProcess = () => Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);

test(`${WORKERS} live workers × 1 call on ${GUEST_THREADS} guest threads: every call correct, every instance kept, threads independent of the workers`, {
  skip: process.env.WARREN_NO_NATIVE === '1' ? 'WARREN_NO_NATIVE=1: no deadline addon, live workers get a thread each' : false,
}, async () => {
  const ids: string[] = new Array(WORKERS);
  await withClients(CLIENTS, WORKERS, async (i) => {
    ids[i] = (await server.client.json<{ id: string }>('POST', '/v1/workers', { component: 'many.tiny', name: `w-${i}` })).id;
  });
  bump(counts, 'workers created', WORKERS);
  const first = async (i: number) => {
    const r = await server.client.json<{ returns: string[]; started: boolean }>('POST', `/v1/workers/${ids[i]}/invoke`, { export: 'mix', args: [i, 0.5, 1] });
    assert.equal(r.started, true);
    assert.equal(r.returns[0], String(i + 2), `worker ${i}`);
  };
  // A tenth first: every guest thread (and its deadline watchdog) has started by then.
  const early = Math.ceil(WORKERS / 10);
  await withClients(CLIENTS, early, first);
  const threadsEarly = threadsOfProcess();
  await withClients(CLIENTS, WORKERS - early, (i) => first(early + i));
  bump(counts, 'first calls checked', WORKERS);
  const live = server.node.ctx.live;
  assert.equal(live.size, WORKERS, 'every worker is live');
  const perThread = server.node.ctx.pool.instances!.instancesPerThread;
  assert.equal(perThread.length, GUEST_THREADS);
  assert.equal(perThread.reduce((a, b) => a + b, 0), WORKERS);
  // Nine times the live workers, not one thread more (a thread per worker would add them all).
  assert.ok(threadsOfProcess() <= threadsEarly + 1, `threads went from ${threadsEarly} to ${threadsOfProcess()}`);
  bump(counts, 'threads', threadsOfProcess());
  // Every instance kept its state: a second call sees its own first one.
  await withClients(CLIENTS, WORKERS, async (i) => {
    const r = await server.client.json<{ returns: string[]; started: boolean }>('POST', `/v1/workers/${ids[i]}/invoke`, { export: 'last', args: [] });
    assert.equal(r.started, false, `worker ${i} lost its instance`);
    assert.equal(r.returns[0], String(i + 2), `worker ${i}`);
  });
  bump(counts, 'second calls checked', WORKERS);
  bump(counts, 'rss MiB', Math.round(process.memoryUsage().rss / 2 ** 20));
});
