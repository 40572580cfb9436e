import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAll } from '../../src/cli/api-client.js';
import { pushComponentDir } from '../../src/cli/push-component-dir.js';
import type { WorkerRecord } from '../../src/records.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { makeTempDir, repoRoot } from '../support/temp-dir.js';
import { LONG, bump, summary } from './hostile-config.js';

const counts = summary('load-workers');
/** The numbers in long mode; scaled to fit the CI budget otherwise. */
const WORKERS = Number(process.env.WARREN_LOAD_WORKERS ?? (LONG ? 1000 : 100));
const CALLS = Number(process.env.WARREN_LOAD_CALLS ?? (LONG ? 10 : 5));
const CLIENTS = 64;
/** Live instances allowed at once (each holds a thread); idle ones are paused (full snapshot) past it. */
const MAX_LIVE = 48;
/**
 * Memory bound for the whole process (API + guest threads + test clients): measured ~10 MiB
 * per live guest thread on this machine, so 48 live threads plus the node stay well under it.
 */
const RSS_BOUND = 2 * 2 ** 30;

const work = makeTempDir('warren-hostile-load-');
let server: TestServer;

before(async () => {
  server = await startTestServer({ jobThreads: 2, idleEvictMs: 250, maxLiveWorkers: MAX_LIVE });
  const dir = join(work.path, 'counter');
  cpSync(join(repoRoot, 'examples/counter'), dir, { recursive: true });
  // Full pauses keep the in-memory counter across an eviction; the state file grows per call.
  // The example's 5 s call timeout would bound calls (and resumes) made under this test's own
  // load on a shared machine: a generous one instead, as no call here is about its timeout.
  const manifest = readFileSync(join(dir, 'warren.toml'), 'utf8')
    .replace('namespace = "sh.warren"', 'namespace = "sh.load"')
    .replace(/\[snapshots\][^[]*/, '')
    .replace(/^timeout = ".*"$/m, 'timeout = "10m"');
  writeFileSync(join(dir, 'warren.toml'), `${manifest}\n[snapshots]\non_pause = "full"\non_commit = "full"\n`);
  await pushComponentDir(server.client, dir);
});
after(async () => {
  await server.close();
  work.dispose();
});

/** Runs `tasks` with `n` concurrent clients; every task is one HTTP request. */
async function withClients<T>(n: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}

test(`${WORKERS} counter workers × ${CALLS} invocations from ${CLIENTS} clients with idle eviction: none lost or duplicated, memory bounded`, async () => {
  const live = server.node.ctx.live;
  let maxRss = 0;
  let maxLive = 0;
  const sampler = setInterval(() => {
    maxRss = Math.max(maxRss, process.memoryUsage().rss);
    maxLive = Math.max(maxLive, live.size);
  }, 100);
  try {
    const workers = await withClients(
      CLIENTS,
      Array.from({ length: WORKERS }, (_, i) => () => server.client.json<WorkerRecord>('POST', '/v1/workers', { component: 'sh.load.counter', name: `load-${i}` })),
    );
    bump(counts, 'workers created', workers.length);
    // Calls interleaved across workers (round-robin), so each worker's calls queue up concurrently.
    const calls: { id: string; task: () => Promise<number> }[] = [];
    for (let k = 0; k < CALLS; k++) {
      for (const w of workers) {
        calls.push({
          id: w.id,
          task: async () => (await server.client.json<{ returns: number[] }>('POST', `/v1/workers/${w.id}/invoke`, { export: 'increment' })).returns[0]!,
        });
      }
    }
    const returned = await withClients(CLIENTS, calls.map((c) => c.task));
    bump(counts, 'invocations checked', returned.length);
    const byWorker = new Map<string, number[]>();
    calls.forEach((c, i) => byWorker.set(c.id, [...(byWorker.get(c.id) ?? []), returned[i]!]));
    const expected = Array.from({ length: CALLS }, (_, k) => k + 1);
    let sum = 0;
    for (const [id, values] of byWorker) {
      // Every call of a worker saw a distinct count 1..CALLS: no call lost, none counted twice.
      assert.deepEqual([...values].sort((a, b) => a - b), expected, `worker ${id} returned ${values}`);
      sum += values.length;
    }
    assert.equal(sum, WORKERS * CALLS);
    // The counter's state file and memory agree after all of it (and after any evictions).
    const sample = workers.filter((_, i) => i % Math.max(1, Math.floor(WORKERS / 20)) === 0);
    for (const w of sample) {
      const text = (await server.client.json<{ returns: number[] }>('POST', `/v1/workers/${w.id}/invoke`, { export: 'get' })).returns[0];
      assert.equal(text, CALLS, `worker ${w.name}: get() after ${CALLS} increments`);
      const file = await server.client.raw('GET', `/v1/workers/${w.id}/file-contents?path=%2Fstate%2Fcount.txt`);
      const lines = (await readAll(file.body)).toString('utf8').trim().split('\n');
      assert.deepEqual(lines.slice(-CALLS), expected.map(String), `worker ${w.name}: state file`);
    }
    bump(counts, 'workers fully checked', sample.length);
  } finally {
    clearInterval(sampler);
  }
  // Idle eviction really ran: workers were paused (a full snapshot) and resumed with their counts.
  const listed = await server.node.ctx.ports.registry.list<WorkerRecord>('worker/');
  const paused = listed.filter((e) => e.value.lastSnapshot !== null).length;
  bump(counts, 'workers evicted at least once', paused);
  if (WORKERS > MAX_LIVE) assert.ok(paused > 0, 'no worker was ever evicted');
  bump(counts, 'max live instances', maxLive);
  bump(counts, 'max rss MiB', Math.round(maxRss / 2 ** 20));
  // The budget is met before an instance starts (admit-live-instance), never caught up on after.
  assert.ok(maxLive <= MAX_LIVE, `live instances ${maxLive}`);
  assert.ok(maxRss < RSS_BOUND, `process RSS reached ${Math.round(maxRss / 2 ** 20)} MiB`);
});
