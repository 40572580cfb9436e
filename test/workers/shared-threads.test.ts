import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerRecord } from '../../src/records.js';
import { processFdBudget } from '../../src/runtime/guest-fd-budget.js';
import { DEFAULT_MOVE_AFTER_MS } from '../../src/runtime/instance-threads.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { call, createWorker, failure, pushTestComponent } from './worker-fixtures.js';

// Live workers share a few guest threads when the deadline addon is there (InstanceThreads).
// WARREN_NO_NATIVE=1 runs without it: each live worker has a thread of its own then, which the
// rest of test/workers covers.
// The addon must load unless WARREN_NO_NATIVE=1 says to go without: a failed build fails here.
const skip = process.env.WARREN_NO_NATIVE === '1' ? 'WARREN_NO_NATIVE=1: no deadline addon, live workers get a thread each' : false;
const work = makeTempDir('warren-shared-threads-');
const spec = { files: { 'state/count.txt': '' }, modes: { '/state/count.txt': 'read-write' as const } };
const servers: TestServer[] = [];

async function server(guestThreads: number): Promise<TestServer> {
  const s = await startTestServer({ guestThreads });
  servers.push(s);
  await pushTestComponent(s.client, work.path, 'pool', 'app', '1.0.0', spec);
  // The timeout is what one test is about; it also bounds the start of that worker.
  await pushTestComponent(s.client, work.path, 'pool', 'slow', '1.0.0', { ...spec, limits: { timeout: '3s' } });
  return s;
}

after(async () => {
  for (const s of servers) await s.close();
  work.dispose();
});

/** Resolves once `cond` holds, checking at every turn of the event loop (no clock involved). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((resolve) => setImmediate(resolve));
}

test('a timeout stops only the worker that overran: the other workers on its thread keep their memory', { skip }, async () => {
  const s = await server(1);
  const c = s.client;
  const a = await createWorker(c, 'pool.app', 'neighbour-a');
  const b = await createWorker(c, 'pool.app', 'neighbour-b');
  for (let i = 1; i <= 3; i++) assert.equal(await call(c, a.id, 'increment'), i);
  for (let i = 1; i <= 5; i++) assert.equal(await call(c, b.id, 'increment'), i);
  const spinner = await createWorker(c, 'pool.slow', 'spinner');
  assert.equal(await call(c, spinner.id, 'increment'), 1);
  assert.deepEqual(s.node.ctx.pool.instances!.instancesPerThread, [3], 'all three on the one thread');

  const f = await failure(call(c, spinner.id, 'spin'));
  assert.equal(f.code, 'E_TIMEOUT');
  assert.equal((await c.json<WorkerRecord>('GET', `/v1/workers/${spinner.id}`)).status, 'failed');
  assert.equal(s.node.ctx.pool.stats.threadsSpawned, 1 + s.node.ctx.pool.jobThreads, 'no thread was terminated or replaced');

  assert.equal(await call(c, a.id, 'increment'), 4, 'a kept its counter');
  assert.equal(await call(c, b.id, 'increment'), 6, 'b kept its counter');
  assert.equal(await call(c, spinner.id, 'increment'), 1, 'the worker that overran starts over (it had no snapshot)');
  assert.deepEqual(s.node.ctx.pool.instances!.instancesPerThread, [3]);
});

test('calls of one worker run one at a time, different workers in parallel on different threads', { skip }, async () => {
  const s = await server(2);
  const c = s.client;
  const threads = s.node.ctx.pool.instances!;
  const blocker = await createWorker(c, 'pool.app', 'blocker');
  const other = await createWorker(c, 'pool.app', 'other');
  assert.equal(await call(c, blocker.id, 'increment'), 1);
  assert.equal(await call(c, other.id, 'increment'), 1);
  assert.deepEqual(threads.instancesPerThread, [1, 1], 'placed on the thread with fewer instances');

  // blocker runs until the test creates /go in its root: its thread is busy that long.
  let waited = false;
  const waiting = call(c, blocker.id, 'wait_go').then((v) => {
    waited = true;
    return v;
  });
  await until(() => threads.busyThreads === 1);
  // Queued behind wait_go in blocker's own queue: it must not run before wait_go ends.
  const next = call(c, blocker.id, 'increment');

  // The other worker's thread is free: its calls go on while blocker's call runs.
  assert.equal(await call(c, other.id, 'increment'), 2);
  // A new worker is placed on the thread that is not busy, and runs too.
  const newcomer = await createWorker(c, 'pool.app', 'newcomer');
  assert.equal(await call(c, newcomer.id, 'increment'), 1);
  assert.deepEqual(threads.instancesPerThread, [1, 2]);
  assert.equal(waited, false, 'blocker is still in its call');

  writeFileSync(join(s.dataDir, 'workers', blocker.id, 'root', 'go'), '');
  assert.equal(await waiting, 1);
  assert.equal(await next, 2, 'the queued call ran after wait_go, on the same instance');
});

test("stopping a live instance resolves once its thread has closed the instance's fds, even behind another worker's call", { skip }, async () => {
  const s = await server(1);
  const c = s.client;
  const threads = s.node.ctx.pool.instances!;
  const budget = processFdBudget();
  const blocker = await createWorker(c, 'pool.app', 'fd-blocker');
  const leaving = await createWorker(c, 'pool.app', 'fd-leaving');
  assert.equal(await call(c, blocker.id, 'increment'), 1);
  assert.equal(await call(c, leaving.id, 'increment'), 1);
  assert.deepEqual(threads.instancesPerThread, [2], 'both on the one thread');
  const held = budget.used;
  const waiting = call(c, blocker.id, 'wait_go');
  await until(() => threads.busyThreads === 1);

  // The thread is inside blocker's call: the stop waits behind it, and so must stop().
  let stopped = false;
  const stopping = s.node.ctx.live.stop(leaving.id).then(() => {
    stopped = true;
  });
  try {
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(stopped, false, 'stop() resolved while the instance was still open on its thread');
    assert.equal(budget.used, held, 'its fds are still held');
  } finally {
    // Whatever the outcome, blocker's call ends (the server could not close otherwise).
    writeFileSync(join(s.dataDir, 'workers', blocker.id, 'root', 'go'), '');
  }
  assert.equal(await waiting, 1);
  await stopping;
  assert.ok(budget.used < held, `the stopped instance's fds are closed once stop() resolves (${budget.used} of ${held} still held)`);
});

test("a worker waiting behind another worker's call moves to an idle thread: it answers before that call ends, with its memory, open fds and call order", { skip }, async () => {
  const s = await startTestServer({ guestThreads: 2 });
  servers.push(s);
  const c = s.client;
  await pushTestComponent(c, work.path, 'pool', 'app', '1.0.0', spec);
  // Keeps /data/story.txt open across calls and reads on from its offset (read_next).
  await pushTestComponent(c, work.path, 'pool', 'story', '1.0.0', { wasm: 'wasi_resume.reactor.wasm', files: { 'data/story.txt': 'abcdefgh' }, modes: { '/data/story.txt': 'read-only' } });
  const threads = s.node.ctx.pool.instances!;
  const budget = processFdBudget();
  const blocker = await createWorker(c, 'pool.app', 'move-blocker');
  const other = await createWorker(c, 'pool.app', 'move-other');
  const mover = await createWorker(c, 'pool.app', 'mover');
  const filler = await createWorker(c, 'pool.app', 'move-filler');
  const reader = await createWorker(c, 'pool.story', 'reader');
  assert.equal(await call(c, blocker.id, 'increment'), 1);
  assert.equal(await call(c, other.id, 'increment'), 1);
  for (let i = 1; i <= 3; i++) assert.equal(await call(c, mover.id, 'increment'), i);
  assert.equal(await call(c, filler.id, 'increment'), 1);
  assert.ok((await call(c, reader.id, 'open_file')) >= 3);
  assert.equal(await call(c, reader.id, 'read_next', [3]), 3, 'abc');
  assert.deepEqual(threads.instancesPerThread, [3, 2], 'blocker, mover and reader share the first thread');
  const held = budget.used;

  let waited = false;
  const waiting = call(c, blocker.id, 'wait_go').then((v) => {
    waited = true;
    return v;
  });
  try {
    await until(() => threads.busyThreads === 1);
    // mover's call would wait for wait_go, which waits for the test: it moves, and answers.
    assert.equal(await call(c, mover.id, 'increment'), 4, 'mover kept its counter');
    assert.equal(threads.stats.moves, 1);
    assert.deepEqual(threads.instancesPerThread, [2, 3]);
    // Three calls issued in order on reader's instance (past the HTTP queue, straight to its
    // slot): they move with it and run in that order, its fd reading on from its offset.
    const slot = s.node.ctx.live.get(reader.id)!.slot;
    const reads = [3, 3, 3].map((n) => slot.call('invoke', { workerId: reader.id, export: 'read_next', args: [n] }, { timeoutMs: 60_000 }));
    const got = await Promise.all(reads);
    assert.deepEqual(got.map((r) => (r as { returns: number[] }).returns[0]), [3, 2, 0], 'def, gh, then EOF: the fd kept its offset, the calls their order');
    assert.equal(threads.stats.moves, 2);
    assert.deepEqual(threads.instancesPerThread, [1, 4]);
    assert.equal(waited, false, 'blocker is still in its call');
    // The first thread closes the moved instances' fds at blocker's next syscall: each fd is counted once.
    await until(() => budget.used === held);
  } finally {
    writeFileSync(join(s.dataDir, 'workers', blocker.id, 'root', 'go'), '');
  }
  assert.equal(await waiting, 1);
  assert.equal(await call(c, mover.id, 'increment'), 5);
  assert.equal(threads.stats.failedMoves, 0);

  // A moved worker pauses (a full snapshot of its instance on the new thread) and resumes from it.
  await c.json('POST', `/v1/workers/${mover.id}/pause`);
  const resumed = await c.json<{ returns: number[]; resumedFrom: string | null }>('POST', `/v1/workers/${mover.id}/invoke`, { export: 'increment' });
  assert.deepEqual([resumed.returns[0], resumed.resumedFrom !== null], [6, true]);
  await c.json('POST', `/v1/workers/${reader.id}/pause`);
  assert.equal(await call(c, reader.id, 'read_next', [3]), 0, 'still at EOF after a pause and resume');
});

test('a neighbour waiting behind a guest that computes without syscalls goes on once that guest times out, its counter intact', { skip }, async () => {
  const s = await server(2);
  const c = s.client;
  const threads = s.node.ctx.pool.instances!;
  const spinner = await createWorker(c, 'pool.slow', 'spin-mover-spinner');
  const other = await createWorker(c, 'pool.app', 'spin-mover-other');
  const neighbour = await createWorker(c, 'pool.app', 'spin-mover-neighbour');
  assert.equal(await call(c, spinner.id, 'increment'), 1);
  assert.equal(await call(c, other.id, 'increment'), 1);
  for (let i = 1; i <= 2; i++) assert.equal(await call(c, neighbour.id, 'increment'), i);
  assert.deepEqual(threads.instancesPerThread, [2, 1]);
  const spinning = failure(call(c, spinner.id, 'spin'));
  await until(() => threads.busyThreads === 1);
  // The spinning guest makes no syscall: the neighbour's instance can only leave once the
  // deadline has stopped it, and is then served (moved or not) with its memory.
  const next = call(c, neighbour.id, 'increment');
  assert.equal((await spinning).code, 'E_TIMEOUT');
  assert.equal(await next, 3);
  assert.equal(await call(c, other.id, 'increment'), 2);
  assert.equal(await call(c, spinner.id, 'increment'), 1, 'the worker that overran starts over');
  assert.equal(threads.stats.failedMoves, 0);
});

test('a worker stopped while it moves stays where it was: its waiting call runs there, then its stop, and its fds are closed', { skip }, async () => {
  const s = await server(2);
  const c = s.client;
  const threads = s.node.ctx.pool.instances!;
  const budget = processFdBudget();
  const spinner = await createWorker(c, 'pool.slow', 'stop-mover-spinner');
  const other = await createWorker(c, 'pool.app', 'stop-mover-other');
  const leaving = await createWorker(c, 'pool.app', 'stop-mover-leaving');
  // Host fds each instance holds (its mounts), from the budget before and after it starts.
  const fdsOf = async (id: string) => {
    const before = budget.used;
    assert.equal(await call(c, id, 'increment'), 1);
    return budget.used - before;
  };
  const spinnerFds = await fdsOf(spinner.id);
  await fdsOf(other.id);
  const leavingFds = await fdsOf(leaving.id);
  assert.deepEqual(threads.instancesPerThread, [2, 1]);
  const held = budget.used;
  const slot = s.node.ctx.live.get(leaving.id)!.slot;
  const spinning = failure(call(c, spinner.id, 'spin'));
  await until(() => threads.busyThreads === 1);
  // The spinner makes no syscall: the move's export waits for its deadline, and the stop comes first.
  const next = slot.call('invoke', { workerId: leaving.id, export: 'increment' }, { timeoutMs: 60_000 });
  await until(() => threads.busyThreads === 2);
  const stopped = s.node.ctx.live.stop(leaving.id);
  assert.equal((await spinning).code, 'E_TIMEOUT');
  assert.equal(((await next) as { returns: number[] }).returns[0], 2, 'the call ran on its instance, where it was');
  await stopped;
  assert.equal(budget.used, held - spinnerFds - leavingFds, "the timeout closed the spinner's fds, the stop those of the stopped worker: no copy left open");
  assert.deepEqual(threads.instancesPerThread, [0, 1]);
  assert.equal(threads.stats.failedMoves, 0);
});

test('a worker whose calls wait behind its own call is not moved', { skip }, async () => {
  const s = servers[servers.length - 1]!;
  const c = s.client;
  const threads = s.node.ctx.pool.instances!;
  const w = await createWorker(c, 'pool.app', 'self-waiter');
  assert.equal(await call(c, w.id, 'increment'), 1);
  const moves = threads.stats.moves;
  // Every wait counts as long: any worker waiting behind another's op would move at once.
  threads.moveAfterMs = 0;
  const slot = s.node.ctx.live.get(w.id)!.slot;
  const first = slot.call('invoke', { workerId: w.id, export: 'wait_go' }, { timeoutMs: 60_000 });
  const second = slot.call('invoke', { workerId: w.id, export: 'increment' }, { timeoutMs: 60_000 });
  await until(() => threads.busyThreads === 1);
  try {
    // The move timer (due at once) has fired and looked at the waiting call by now.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(threads.stats.moves, moves, 'a worker in a call is never moved');
  } finally {
    threads.moveAfterMs = DEFAULT_MOVE_AFTER_MS;
    writeFileSync(join(s.dataDir, 'workers', w.id, 'root', 'go'), '');
  }
  assert.deepEqual([((await first) as { returns: number[] }).returns[0], ((await second) as { returns: number[] }).returns[0]], [1, 2]);
  assert.equal(threads.stats.moves, moves);
});

test('20 concurrent calls of each of 4 workers on 2 threads: every worker counts 1..20 exactly once', { skip }, async () => {
  const s = servers[1] ?? (await server(2));
  const c = s.client;
  const workers = await Promise.all([0, 1, 2, 3].map((i) => createWorker(c, 'pool.app', `counter-${i}`)));
  const results = await Promise.all(workers.map((w) => Promise.all(Array.from({ length: 20 }, () => call(c, w.id, 'increment')))));
  for (const values of results) assert.deepEqual([...values].sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i + 1));
});

test("a worker's call queue is bounded: past maxQueuedCalls a call is 503 E_BUSY with Retry-After, and calls are taken again once it drains", async () => {
  const s = servers[0] ?? (await server(1));
  const c = s.client;
  const live = s.node.ctx.live;
  const w = await createWorker(c, 'pool.app', 'crowded');
  assert.equal(await call(c, w.id, 'increment'), 1);
  live.maxQueuedCalls = 3;
  try {
    const waiting = call(c, w.id, 'wait_go');
    const queued = [call(c, w.id, 'increment'), call(c, w.id, 'increment')];
    await until(() => live.queuedCallsOf(w.id) === 3);
    const raw = await fetch(`${s.url}/v1/workers/${w.id}/invoke`, { method: 'POST', headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ export: 'increment', args: [] }) });
    assert.equal(raw.status, 503);
    assert.equal(raw.headers.get('retry-after'), '1');
    assert.equal(((await raw.json()) as { error: { code: string } }).error.code, 'E_BUSY');
    writeFileSync(join(s.dataDir, 'workers', w.id, 'root', 'go'), '');
    assert.equal(await waiting, 1);
    assert.deepEqual((await Promise.all(queued)).sort(), [2, 3], 'the refused calls never ran');
    assert.equal(await call(c, w.id, 'increment'), 4, 'a drained queue takes calls again');
  } finally {
    live.maxQueuedCalls = 256;
  }
});

test('a thread stuck where the deadline cannot reach is replaced by the backstop: the stuck call times out, its neighbours come back fresh', { skip }, async () => {
  const s = await startTestServer({ guestThreads: 1, backstopGraceMs: 200 });
  servers.push(s);
  const c = s.client;
  await pushTestComponent(c, work.path, 'pool', 'app', '1.0.0', spec);
  await pushTestComponent(c, work.path, 'pool', 'slow', '1.0.0', { ...spec, limits: { timeout: '3s' } });
  const threads = s.node.ctx.pool.instances!;
  const neighbour = await createWorker(c, 'pool.app', 'neighbour');
  const stuck = await createWorker(c, 'pool.slow', 'stuck');
  assert.equal(await call(c, neighbour.id, 'increment'), 1);
  assert.equal(await call(c, neighbour.id, 'increment'), 2);
  assert.equal(await call(c, stuck.id, 'increment'), 1);
  const fifo = join(s.dataDir, 'workers', stuck.id, 'root', 'fifo');
  execFileSync('mkfifo', [fifo]);
  try {
    const f = await failure(call(c, stuck.id, 'read_fifo'));
    assert.equal(f.code, 'E_TIMEOUT');
    assert.equal(threads.stats.threadsReplaced, 1, 'the stuck thread was terminated and replaced');
  } finally {
    // The terminated thread may still sit in open(): a writer lets it go.
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // no reader left
    }
  }
  // The neighbour's instance went with the thread: it starts over from its files (no snapshot).
  const again = await c.json<{ returns: number[]; started: boolean }>('POST', `/v1/workers/${neighbour.id}/invoke`, { export: 'increment' });
  assert.deepEqual([again.started, again.returns[0]], [true, 1]);
  assert.equal(await call(c, stuck.id, 'increment'), 1);
  assert.deepEqual(threads.instancesPerThread, [2]);
});
