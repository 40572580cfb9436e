/**
 * Many live workers on one node (issue 16): a small reactor (one page of memory, exports that
 * touch only globals: fixtures/wat/worker_typed.reactor.wat) served by `warren serve` in a child
 * process, whose RSS and thread count are read from /proc. Printed against baselines measured in
 * the same run:
 * - RSS per idle live worker on the shared guest threads, against the guest's own linear memory
 *   (one 64 KiB page) and against a node that gives each live worker a thread of its own
 *   (WARREN_NO_NATIVE=1: no deadline addon, today's fallback) with BASE_WORKERS workers;
 * - threads of the node with WORKERS live workers (independent of WORKERS);
 * - first call of a new worker and warm calls over HTTP (p50/p99), sequential, against a bare
 *   Fastify route answering the same JSON body from the same client;
 * - 32 clients over 1,000 workers: calls/s against the bare route's requests/s;
 * - neighbours of a long call (in-process node, 2 guest threads): one worker holds its thread in
 *   a call for HOLD_MS (waiting on a file, as a call waiting on I/O does), calls to the workers
 *   placed on the same thread are made meanwhile; their latency with moving (default) and
 *   without (moveAfterMs = Infinity), and what a move costs.
 * WARREN_BENCH_WORKERS (default 10,000) and WARREN_BENCH_BASE_WORKERS (default 100) scale it.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MOVE_AFTER_MS } from '../src/runtime/instance-threads.js';
import { ServeChild } from '../test/support/serve-child.js';
import { startTestServer } from '../test/support/start-server.js';
import { makeTempDir } from '../test/support/temp-dir.js';
import { call, createWorker, pushTestComponent } from '../test/workers/worker-fixtures.js';
import { writeBenchResult } from './bench-result.js';

const WORKERS = Number(process.env.WARREN_BENCH_WORKERS ?? 10_000);
const BASE_WORKERS = Number(process.env.WARREN_BENCH_BASE_WORKERS ?? 100);
const WARM_CALLS = 2000;
const CLIENTS = 32;
const THROUGHPUT_WORKERS = Math.min(1000, WORKERS);
const THROUGHPUT_MS = 5000;
const CREATE_CONCURRENCY = 8;
const PAGE = 65536;
const HOLD_MS = 200;
const HOLD_ROUNDS = 5;
/** Workers on the held thread called at once in each round. */
const NEIGHBOURS = 4;

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const round = (x: number, digits = 2) => Number(x.toFixed(digits));

/** VmRSS (bytes) and thread count of a process. */
function procStatus(pid: number): { rss: number; threads: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)![1]);
  return { rss: field('VmRSS') * 1024, threads: field('Threads') };
}

async function post(url: string, token: string | null, body: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as unknown;
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Runs `task(i)` for i in [0, n) with `concurrency` at a time. */
async function forAll(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await task(next++);
  }));
}

/** Sequential latencies of `n` calls of `fn(i)`, ms. */
async function latencies(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    out.push(performance.now() - t);
  }
  return out;
}

/** Calls/s of CLIENTS clients calling `fn` in a loop for THROUGHPUT_MS. */
async function throughput(fn: (client: number, i: number) => Promise<unknown>): Promise<number> {
  let done = 0;
  const until = performance.now() + THROUGHPUT_MS;
  const started = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
    for (let i = 0; performance.now() < until; i++) {
      await fn(c, i);
      done++;
    }
  }));
  return done / ((performance.now() - started) / 1000);
}

interface NodeRun {
  workers: number;
  idleRss: number;
  liveRss: number;
  threads: number;
  createMs: number;
  first: number[];
  ids: string[];
  url: string;
  token: string;
  child: ServeChild;
}

/** A node with `workers` live workers (each created, then called once). */
async function liveNode(dataDir: string, workers: number, env: Record<string, string | undefined>, work: string): Promise<NodeRun> {
  // ServeChild passes this process's environment on.
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const setEnv = (vars: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(vars)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  setEnv(env);
  // One host fd per live worker (its root's mount), with room for the node itself.
  const child = await ServeChild.start(dataDir, { args: ['--guest-fds', String(Math.max(4096, workers + 1024))] }).finally(() => setEnv(saved));
  const { url, token } = child;
  await pushTestComponent(child.client, work, 'bench', 'tiny', '1.0.0', { wasm: 'worker_typed.reactor.wasm', limits: { memory: '1MiB', timeout: '10s' } });
  const idle = procStatus(child.proc.pid!);
  const ids: string[] = new Array(workers);
  const t = performance.now();
  await forAll(workers, CREATE_CONCURRENCY, async (i) => {
    ids[i] = ((await post(`${url}/v1/workers`, token, { component: 'bench.tiny', name: `w-${i}` })) as { id: string }).id;
  });
  const createMs = performance.now() - t;
  const first = await latencies(workers, async (i) => {
    const r = (await post(`${url}/v1/workers/${ids[i]}/invoke`, token, { export: 'echo32', args: [i] })) as { returns: number[]; started: boolean };
    if (r.returns[0] !== i || !r.started) throw new Error(`worker ${i}: unexpected ${JSON.stringify(r)}`);
  });
  const live = procStatus(child.proc.pid!);
  return { workers, idleRss: idle.rss, liveRss: live.rss, threads: live.threads, createMs, first, ids, url, token, child };
}

/**
 * Latencies of calls to the neighbours of a held thread, `moving` or not: per round, one worker
 * holds its thread (wait_go, released after HOLD_MS) and NEIGHBOURS workers on that thread are
 * called at once. Also the warm call of an idle worker on the other thread, for scale.
 */
async function heldThreadNeighbours(moving: boolean, work: string) {
  const s = await startTestServer({ guestThreads: 2 });
  try {
    const threads = s.node.ctx.pool.instances!;
    threads.moveAfterMs = moving ? DEFAULT_MOVE_AFTER_MS : Number.POSITIVE_INFINITY;
    const spec = { files: { 'state/count.txt': '' }, modes: { '/state/count.txt': 'read-write' as const } };
    await pushTestComponent(s.client, work, 'bench', 'files', '1.0.0', spec);
    const c = s.client;
    // Placed alternately (the thread with fewer instances, the first on a tie): the blocker and
    // every odd one on the first thread, every even one on the second.
    const blocker = await createWorker(c, 'bench.files', 'blocker');
    await call(c, blocker.id, 'increment');
    const neighbours: string[] = [];
    const others: string[] = [];
    for (let i = 0; i < 2 * NEIGHBOURS * HOLD_ROUNDS; i++) {
      const w = await createWorker(c, 'bench.files', `n-${i}`);
      await call(c, w.id, 'increment');
      (i % 2 === 1 ? neighbours : others).push(w.id);
    }
    const idle = await latencies(200, (i) => call(c, others[i % others.length]!, 'increment'));
    const held: number[] = [];
    const go = join(s.dataDir, 'workers', blocker.id, 'root', 'go');
    for (let r = 0; r < HOLD_ROUNDS; r++) {
      rmSync(go, { force: true });
      const waiting = call(c, blocker.id, 'wait_go');
      while (threads.busyThreads === 0) await new Promise((resolve) => setImmediate(resolve));
      const release = setTimeout(() => writeFileSync(go, ''), HOLD_MS);
      const t = performance.now();
      await Promise.all(neighbours.slice(r * NEIGHBOURS, (r + 1) * NEIGHBOURS).map(async (id) => {
        await call(c, id, 'increment');
        held.push(performance.now() - t);
      }));
      await waiting;
      clearTimeout(release);
    }
    const { moves, moveMsTotal, failedMoves } = threads.stats;
    return { held, idle, moves, failedMoves, moveMs: moves > 0 ? moveMsTotal / moves : 0 };
  } finally {
    await s.close();
  }
}

const work = makeTempDir('warren-bench-workers-');
const children: ServeChild[] = [];
try {
  // Baseline 1: a bare Fastify route in a process of its own (as the node is), same client, same JSON shape.
  const bare = spawn(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'bare-route.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const bareUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    bare.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    bare.once('exit', (code) => reject(new Error(`bare route exited with ${code}`)));
  });
  for (let i = 0; i < 200; i++) await post(`${bareUrl}/echo`, null, { args: [i] });
  const bareLat = await latencies(WARM_CALLS, (i) => post(`${bareUrl}/echo`, null, { args: [i] }));
  const bareRps = await throughput((c, i) => post(`${bareUrl}/echo`, null, { args: [i] }));
  bare.kill('SIGKILL');

  // Baseline 2: a thread per live worker (no deadline addon).
  const own = await liveNode(join(work.path, 'own'), BASE_WORKERS, { WARREN_NO_NATIVE: '1' }, join(work.path, 'own-src'));
  children.push(own.child);
  await own.child.kill();

  // The node under test: every live worker on the shared guest threads.
  const pool = await liveNode(join(work.path, 'pool'), WORKERS, {}, join(work.path, 'pool-src'));
  children.push(pool.child);
  const warm = await latencies(WARM_CALLS, (i) => post(`${pool.url}/v1/workers/${pool.ids[(i * 7919) % WORKERS]}/invoke`, pool.token, { export: 'echo32', args: [i] }));
  const poolRps = await throughput((c, i) => post(`${pool.url}/v1/workers/${pool.ids[(c * 31 + i) % THROUGHPUT_WORKERS]}/invoke`, pool.token, { export: 'echo32', args: [i] }));
  const after = procStatus(pool.child.proc.pid!);
  // Every worker kept its instance: its call count is the calls it was given.
  const sample = await post(`${pool.url}/v1/workers/${pool.ids[WORKERS - 1]}/invoke`, pool.token, { export: 'calls', args: [] }) as { returns: number[]; started: boolean };
  if (sample.started) throw new Error('a live worker lost its instance');
  await pool.child.kill();

  const moved = await heldThreadNeighbours(true, join(work.path, 'moving-src'));
  const stuck = await heldThreadNeighbours(false, join(work.path, 'stuck-src'));

  const perWorker = (r: NodeRun) => (r.liveRss - r.idleRss) / r.workers;
  const result = {
    workers: WORKERS,
    baseWorkers: BASE_WORKERS,
    rssMiB: round(pool.liveRss / 2 ** 20, 1),
    rssAfterLoadMiB: round(after.rss / 2 ** 20, 1),
    idleNodeRssMiB: round(pool.idleRss / 2 ** 20, 1),
    rssPerIdleWorkerKiB: round(perWorker(pool) / 1024, 1),
    rssPerIdleWorkerVsLinearMemory: round(perWorker(pool) / PAGE),
    ownThreadRssPerWorkerKiB: round(perWorker(own) / 1024, 1),
    rssPerWorkerVsOwnThread: round(perWorker(pool) / perWorker(own), 4),
    threads: pool.threads,
    ownThreadThreads: own.threads,
    createPerSecond: round(WORKERS / (pool.createMs / 1000), 0),
    firstCallP50Ms: round(quantile(pool.first, 0.5)),
    firstCallP99Ms: round(quantile(pool.first, 0.99)),
    ownThreadFirstCallP50Ms: round(quantile(own.first, 0.5)),
    warmCallP50Ms: round(quantile(warm, 0.5)),
    warmCallP99Ms: round(quantile(warm, 0.99)),
    bareRouteP50Ms: round(quantile(bareLat, 0.5), 3),
    bareRouteP99Ms: round(quantile(bareLat, 0.99), 3),
    firstCallP50VsBareRoute: round(quantile(pool.first, 0.5) / quantile(bareLat, 0.5)),
    warmCallP50VsBareRoute: round(quantile(warm, 0.5) / quantile(bareLat, 0.5)),
    callsPerSecond32Clients: round(poolRps, 0),
    bareRoutePerSecond32Clients: round(bareRps, 0),
    throughputVsBareRoute: round(poolRps / bareRps),
    heldThreadHoldMs: HOLD_MS,
    heldThreadNeighbourP50MsMoving: round(quantile(moved.held, 0.5)),
    heldThreadNeighbourMaxMsMoving: round(Math.max(...moved.held)),
    heldThreadNeighbourP50MsNotMoving: round(quantile(stuck.held, 0.5)),
    heldThreadNeighbourP50MovingVsNot: round(quantile(moved.held, 0.5) / quantile(stuck.held, 0.5), 3),
    heldThreadNeighbourP50VsIdleWarmCall: round(quantile(moved.held, 0.5) / quantile(moved.idle, 0.5)),
    idleThreadWarmCallP50Ms: round(quantile(moved.idle, 0.5)),
    moves: moved.moves,
    failedMoves: moved.failedMoves,
    moveCostMs: round(moved.moveMs),
  };
  writeBenchResult('workers', result);
} finally {
  for (const c of children) await c.kill();
  work.dispose();
}
