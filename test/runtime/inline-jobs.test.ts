import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { GuestPool } from '../../src/runtime/guest-pool.js';
import { runWithDeadline } from '../../src/runtime/deadline.js';
import type { RunJobRequest } from '../../src/runtime/thread-protocol.js';
import { loadFixture } from '../wasi/probe-guest.js';

/** The timeout (and the roomy inline budget) where time is not what is tested. */
const GENEROUS_MS = 10 * 60_000;

/**
 * Jobs run first on the API thread within a budget, and again from the start on a guest thread
 * when they overrun it or would sleep. What a client sees must not depend on where a job ran:
 * same output (once), same errors, same timeouts.
 */
describe('inline jobs', { skip: runWithDeadline === null && process.env.WARREN_NO_NATIVE === '1' ? 'WARREN_NO_NATIVE=1' : false }, () => {
  /**
   * Where a job runs depends on time only through the budget. `pool`'s budget is generous: a job
   * meant to run inline does, even when a loaded machine stalls it. `tight` has a small one, and
   * the jobs meant to overrun it compute or spin far past it.
   */
  let pool: GuestPool;
  let tight: GuestPool;
  // Guest threads are unref'd (a server's sockets keep a real process alive): keep this one alive.
  let keepAlive: NodeJS.Timeout;
  before(() => {
    keepAlive = setInterval(() => undefined, 1000);
    pool = new GuestPool({ jobThreads: 1, spareThreads: 0, inlineBudgetMs: GENEROUS_MS });
    tight = new GuestPool({ jobThreads: 1, spareThreads: 0, inlineBudgetMs: 25 });
  });
  after(async () => {
    await pool.close();
    await tight.close();
    clearInterval(keepAlive);
  });

  const request = (key: string, ops: string[]): Omit<RunJobRequest, 'id'> => ({
    type: 'run-job',
    modules: { main: loadFixture('wasi_probe.wasm'), extensions: [] },
    modulesKey: key,
    args: ['probe', ...ops],
    env: {},
    stdin: new Uint8Array(0),
    mounts: null,
    limits: { maxOutputBytes: 1 << 20, memoryMaxBytes: null },
    recycledMemory: null,
  });

  async function run(key: string, ops: string[], timeoutMs = GENEROUS_MS, on = pool): Promise<{ lines: string[]; result: Record<string, unknown> }> {
    const out: Uint8Array[] = [];
    const result = await on.runJob(request(key, ops), { timeoutMs, onStdout: (c) => out.push(c) });
    return { lines: Buffer.concat(out).toString('utf8').split('\n').map((l) => l.trim()).filter(Boolean), result };
  }

  it('the native deadline is built (CI builds it in npm ci)', () => {
    assert.ok(runWithDeadline, 'native/deadline was not built: run npm run setup');
    assert.ok(pool.inline && tight.inline, 'inline jobs are on with a budget when the addon is there');
  });

  it('runs a short job inline, with its output and exit code', async () => {
    const before = pool.inline!.stats.ran;
    const { lines, result } = await run('quick', ['args', 'exit', '3']);
    assert.deepEqual(lines, ['args OK argc=4']);
    assert.equal(result.exitCode, 3);
    assert.equal(pool.inline!.stats.ran, before + 1);
  });

  it('a job over the budget is stopped and run again on a thread: its output comes once', async () => {
    const over = tight.inline!.stats.overBudget;
    // 2 s of computing against a 25 ms budget: over it even if the deadline comes a second late.
    const { lines, result } = await run('busy', ['args', 'busy', '2000'], GENEROUS_MS, tight);
    assert.deepEqual(lines, ['args OK argc=4', 'busy OK']);
    assert.equal(result.exitCode, 0);
    assert.equal(tight.inline!.stats.overBudget, over + 1);
  });

  it('a job that sleeps gives up its inline run and sleeps on a thread; its component then goes to threads', async () => {
    const yielded = pool.inline!.stats.yielded;
    const { lines } = await run('sleeper', ['args', 'sleep', '30']);
    assert.deepEqual(lines, ['args OK argc=4', 'sleep OK slept_enough=1']);
    assert.equal(pool.inline!.stats.yielded, yielded + 1);
    const ran = pool.inline!.stats.ran;
    assert.deepEqual((await run('sleeper', ['args'])).lines, ['args OK argc=2']);
    assert.equal(pool.inline!.stats.ran, ran, 'the next job of that linked set did not try inline');
  });

  it('a guest that loops forever gets E_TIMEOUT, whether its timeout is inside the budget or past it', async () => {
    await assert.rejects(run('spin-short', ['spin'], 10), { code: 'E_TIMEOUT' });
    await assert.rejects(run('spin-long', ['args', 'spin'], 300, tight), { code: 'E_TIMEOUT' });
    assert.deepEqual((await run('quick', ['args'])).lines, ['args OK argc=2'], 'the pool keeps serving');
  });

  it('a trap is E_TRAP inline as on a thread, and output written before it is delivered', async () => {
    const out: Uint8Array[] = [];
    await assert.rejects(pool.runJob(request('trap', ['args', 'trap']), { timeoutMs: GENEROUS_MS, onStdout: (c) => out.push(c) }), { code: 'E_TRAP' });
    assert.equal(Buffer.concat(out).toString('utf8'), 'args OK argc=3\n');
  });

  it('is off with a zero budget', async () => {
    const threadsOnly = new GuestPool({ jobThreads: 1, spareThreads: 0, inlineBudgetMs: 0 });
    try {
      assert.equal(threadsOnly.inline, null);
      const out: Uint8Array[] = [];
      await threadsOnly.runJob(request('t', ['args']), { timeoutMs: GENEROUS_MS, onStdout: (c) => out.push(c) });
      assert.equal(Buffer.concat(out).toString('utf8'), 'args OK argc=2\n');
    } finally {
      await threadsOnly.close();
    }
  });
});
