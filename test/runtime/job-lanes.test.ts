import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { openSync, closeSync, constants } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GuestPool } from '../../src/runtime/guest-pool.js';
import { MountTableBuilder } from '../../src/wasi/index.js';
import { makeTempDir } from '../support/temp-dir.js';
import { runWithDeadline } from '../../src/runtime/deadline.js';
import type { RunJobRequest } from '../../src/runtime/thread-protocol.js';
import { loadFixture } from '../wasi/probe-guest.js';

/**
 * The timeout of every job whose timeout is not what is tested: a loaded machine (shared CI, both
 * cores busy) must never turn a job that works into E_TIMEOUT.
 */
const GENEROUS_MS = 10 * 60_000;

/**
 * The write end of a FIFO, opened once a reader is in its open() (a guest job blocked there):
 * non-blocking, so ENXIO until then. Returns the fd; closing it lets the reader go on.
 */
async function openWhenReaderWaits(fifo: string): Promise<number> {
  const deadline = Date.now() + GENEROUS_MS;
  for (;;) {
    try {
      return openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO' || Date.now() > deadline) throw err;
    }
    await sleep(5);
  }
}

/** Lets a reader blocked in open() of `fifo` go on, if there is one (cleanup after a failure). */
function unblockReader(fifo: string): void {
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // no reader
  }
}

const probe = loadFixture('wasi_probe.wasm');
const request = (key: string, ops: string[], stdin: Uint8Array = new Uint8Array(0)): Omit<RunJobRequest, 'id'> => ({
  type: 'run-job',
  modules: { main: probe, extensions: [] },
  modulesKey: key,
  args: ['probe', ...ops],
  env: {},
  stdin,
  mounts: null,
  limits: { maxOutputBytes: 8 << 20, memoryMaxBytes: null },
  recycledMemory: null,
});

/**
 * Job threads take queues of jobs (JobLanes) and time jobs out themselves. Whatever shares a
 * thread or a message, each job must get its own output, exit code and error, a timed-out job
 * must not take the jobs queued behind it down, and a slow job must not hold up new ones.
 */
describe('job lanes', { skip: process.env.WARREN_NO_NATIVE === '1' ? 'WARREN_NO_NATIVE=1: no deadline addon, one job per thread' : false }, () => {
  it('have the deadline addon (a build that failed must not turn them off unnoticed)', () => {
    assert.notEqual(runWithDeadline, null);
  });

  let pool: GuestPool;
  let keepAlive: NodeJS.Timeout;
  before(() => {
    keepAlive = setInterval(() => undefined, 1000);
    // The deadline, not the backstop, stops jobs here (the backstop has its own test below).
    pool = new GuestPool({ jobThreads: 2, spareThreads: 0, inlineBudgetMs: 0, backstopGraceMs: GENEROUS_MS });
  });
  after(async () => {
    await pool.close();
    clearInterval(keepAlive);
  });


  async function run(key: string, ops: string[], timeoutMs = GENEROUS_MS, stdin?: Uint8Array): Promise<{ text: string; exitCode: number }> {
    const out: Uint8Array[] = [];
    const result = await pool.runJob(request(key, ops, stdin), { timeoutMs, onStdout: (c) => out.push(c) });
    return { text: Buffer.concat(out).toString('utf8'), exitCode: Number(result.exitCode) };
  }

  it('300 concurrent jobs each get their own stdin, output and exit code, once', async () => {
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => run('many', ['stdin', 'exit', String(i % 120)], GENEROUS_MS, Buffer.from(`job-${i}`))),
    );
    results.forEach((r, i) => {
      assert.equal(r.exitCode, i % 120);
      assert.match(r.text, new RegExp(`job-${i}(?!\\d)`));
      assert.equal(r.text.split(`job-${i}`).length, 2, `job ${i}'s output arrives once`);
    });
    assert.equal(pool.stats.jobsRun >= 300, true);
  });

  it('a job looping forever times out on its thread; the thread lives on and the jobs queued behind it run', async () => {
    const spawned = pool.stats.threadsSpawned;
    const spinner = run('spin', ['spin'], 300);
    // Queued at once: at least one shares the spinner's thread (two lanes, one of them busy).
    const others = Promise.all(Array.from({ length: 20 }, (_, i) => run('after-spin', ['exit', String(i)])));
    await assert.rejects(spinner, { code: 'E_TIMEOUT' });
    (await others).forEach((r, i) => assert.equal(r.exitCode, i));
    assert.equal(pool.stats.threadsSpawned, spawned, 'no thread was terminated and replaced');
  });

  it('a job sleeping past its timeout is woken and stopped', async () => {
    // A minute of sleeps (the probe sleeps at most 999 ms per op): it cannot end on its own
    // before the 200 ms deadline (or the backstop) stops it, however late those come.
    const sleeps = Array.from({ length: 67 }, () => ['sleep', '900']).flat();
    await assert.rejects(run('sleep', sleeps, 200), { code: 'E_TIMEOUT' });
    assert.equal((await run('quick', ['args'])).text, 'args OK argc=2\n');
  });

  it('new jobs go around a slow one instead of queuing behind it', async () => {
    // The slow job holds its thread until the test lets it go, not for a fixed time: it blocks in
    // open() of FIFO a (which shows it is running), then of FIFO b, released once the fast jobs
    // are done. Should they queue behind it, b is released after two minutes anyway, and the
    // order below fails instead of the test hanging.
    const dir = makeTempDir('warren-lanes-slow-');
    const [a, b] = [join(dir.path, 'a'), join(dir.path, 'b')];
    execFileSync('mkfifo', [a, b]);
    // Fresh lanes: no job-time averages left by the tests above steer where the jobs go. Their
    // clock is moved on by hand to make the slow job's run long.
    let skew = 0;
    const two = new GuestPool({ jobThreads: 2, spareThreads: 0, inlineBudgetMs: 0, now: () => Date.now() + skew });
    let fallback: NodeJS.Timeout | undefined;
    try {
      const order: string[] = [];
      const slowJob = { ...request('slow', ['read', '/in/a', 'read', '/in/b']), mounts: new MountTableBuilder().mount('/in', dir.path, 'ro').build() };
      const slow = two.runJob(slowJob, { timeoutMs: GENEROUS_MS }).then(() => order.push('slow'));
      closeSync(await openWhenReaderWaits(a));
      // Its lane counts as stuck on a slow job once that job has run past JobLanes' STALL_MS
      // (20 ms): as the lanes see it, a minute has passed.
      skew = 60_000;
      let released: Promise<void> | null = null;
      const release = () => (released ??= openWhenReaderWaits(b).then(closeSync));
      fallback = setTimeout(release, 120_000);
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => two.runJob(request('fast', ['exit', String(i)]), { timeoutMs: GENEROUS_MS }).then(() => order.push('fast'))),
      );
      clearTimeout(fallback);
      await release();
      await slow;
      assert.deepEqual(order, [...Array(10).fill('fast'), 'slow']);
    } finally {
      clearTimeout(fallback);
      unblockReader(a);
      unblockReader(b);
      await two.close();
      dir.dispose();
    }
  });

  it('a trap is E_TRAP for its job only, with the output written before it', async () => {
    const out: Uint8Array[] = [];
    const trap = pool.runJob(request('trap', ['args', 'trap']), { timeoutMs: GENEROUS_MS, onStdout: (c) => out.push(c) });
    const fine = run('fine', ['args']);
    await assert.rejects(trap, { code: 'E_TRAP' });
    assert.equal(Buffer.concat(out).toString('utf8'), 'args OK argc=3\n');
    assert.equal((await fine).text, 'args OK argc=2\n');
  });

  it('more linked sets than a thread keeps: it forgets them all and is sent each again when needed', async () => {
    // Two different modules under alternating keys: a set named by the wrong number would show.
    const echo = loadFixture('worker_echo.wasm');
    const one = new GuestPool({ jobThreads: 1, spareThreads: 0, inlineBudgetMs: 0 });
    try {
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 80; i++) {
          const req = request(`set-${i}`, ['exit', String(i)], Buffer.from(`in-${i}`));
          if (i % 2 === 1) req.modules = { main: echo, extensions: [] };
          const out: Uint8Array[] = [];
          const result = await one.runJob(req, { timeoutMs: GENEROUS_MS, onStdout: (c) => out.push(c) });
          if (i % 2 === 1) assert.equal(Buffer.concat(out).toString(), `IN-${i}`, `set-${i} ran the echo module`);
          else assert.equal(result.exitCode, i, `set-${i} ran the probe`);
        }
      }
    } finally {
      await one.close();
    }
  });

  it('a thread stuck where the deadline cannot reach (a FIFO open) is terminated by the backstop; the jobs it held run elsewhere', async () => {
    const dir = makeTempDir('warren-lanes-');
    const fifo = join(dir.path, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const one = new GuestPool({ jobThreads: 2, spareThreads: 0, inlineBudgetMs: 0 });
    try {
      const stuck = { ...request('fifo', ['read', '/in/pipe']), mounts: new MountTableBuilder().mount('/in', dir.path, 'ro').build() };
      // The lane's thread is up first: the stuck job's 200 ms count from its arrival, and a
      // thread still starting would use them up before the job reaches its open().
      assert.equal((await one.runJob(request('fifo', ['exit', '0']), { timeoutMs: GENEROUS_MS })).exitCode, 0);
      const spawned = one.stats.threadsSpawned;
      const blocked = one.runJob(stuck, { timeoutMs: 200 });
      // Same linked set, queued at once: they share the stuck job's batch on its thread. Their
      // timeout is generous, so the one timeout and the one replaced thread below are the stuck job's.
      const queued = Array.from({ length: 5 }, (_, i) => one.runJob({ ...request('fifo', ['exit', String(i)]) }, { timeoutMs: GENEROUS_MS }));
      await assert.rejects(blocked, { code: 'E_TIMEOUT' });
      const results = await Promise.all(queued);
      results.forEach((r, i) => assert.equal(r.exitCode, i));
      assert.equal(one.stats.timeouts, 1);
      assert.equal(one.stats.threadsSpawned, spawned + 1, 'the stuck thread was replaced');
    } finally {
      // Unblock the stuck open (the terminated thread is still in it) so the process can exit.
      const fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      closeSync(fd);
      await one.close();
      dir.dispose();
    }
  });

  it('large output streams in chunks, in order, next to small jobs', async () => {
    const [big, small] = await Promise.all([run('spam', ['spam', '200000']), run('small', ['args'])]);
    const lines = big.text.split('\n').filter(Boolean);
    assert.equal(lines.length, 200_000);
    assert.equal(lines[0], 'line 0 of output');
    assert.equal(lines.at(-1), 'line 199999 of output');
    assert.equal(small.text, 'args OK argc=2\n');
  });
});

// Both ways a pool runs jobs: lanes (the deadline addon) and, under WARREN_NO_NATIVE=1 (the
// pure-JS rerun in test/native), one job per thread with the pool's timer.
describe('job admission', () => {

  it("a job's timeout counts from its arrival: one that waited past it behind a spinner times out without running", async () => {
    const keepAlive = setInterval(() => undefined, 1000);
    const one = new GuestPool({ jobThreads: 1, spareThreads: 0, inlineBudgetMs: 0, backstopGraceMs: GENEROUS_MS });
    try {
      // The spinner holds the one thread for its 1,000 ms; the quick job behind it has 500 ms
      // in all, so it is past its deadline before it could start, however fast the machine.
      const spinner = one.runJob(request('admission', ['spin']), { timeoutMs: 1000 });
      const quick = one.runJob(request('admission', ['exit', '7']), { timeoutMs: 500 });
      await assert.rejects(spinner, { code: 'E_TIMEOUT' });
      await assert.rejects(quick, { code: 'E_TIMEOUT' });
      const later = await one.runJob(request('admission', ['exit', '7']), { timeoutMs: GENEROUS_MS });
      assert.equal(Number(later.exitCode), 7, 'a job arriving now runs');
    } finally {
      await one.close();
      clearInterval(keepAlive);
    }
  });

  it('jobs waiting for a thread are bounded: past maxWaitingJobs a job is refused with E_BUSY at once', async () => {
    const keepAlive = setInterval(() => undefined, 1000);
    const one = new GuestPool({ jobThreads: 1, spareThreads: 0, inlineBudgetMs: 0, backstopGraceMs: GENEROUS_MS, maxWaitingJobs: 2 });
    try {
      // A lane holds 64 jobs (a thread without lanes, one); the spinner first, so none of them
      // ends while the rest are queued.
      const spinner = one.runJob(request('admission', ['spin']), { timeoutMs: 1000 });
      const held = one.lanes ? 63 : 0;
      const accepted = Array.from({ length: held + 2 }, (_, i) => one.runJob(request('admission', ['exit', String(i % 100)]), { timeoutMs: GENEROUS_MS }));
      await assert.rejects(one.runJob(request('admission', ['exit', '1']), { timeoutMs: GENEROUS_MS }), (err: { code: string; details: { retryAfterSeconds: number } }) => {
        assert.equal(err.code, 'E_BUSY');
        assert.equal(err.details.retryAfterSeconds, 1);
        return true;
      });
      await assert.rejects(spinner, { code: 'E_TIMEOUT' });
      (await Promise.all(accepted)).forEach((r, i) => assert.equal(Number(r.exitCode), i % 100));
    } finally {
      await one.close();
      clearInterval(keepAlive);
    }
  });
});
