import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyStore } from '../../src/services/gc/verify-store.js';
import { getSnapshot } from '../../src/services/snapshots/index.js';
import { WarrenNode } from '../../src/services/warren-node.js';
import { getWorker } from '../../src/services/workers/get-worker.js';
import { invokeWorker } from '../../src/services/instances/invoke-worker.js';
import { startTestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { createWorker } from '../workers/worker-fixtures.js';
import { pushSnapComponent, value } from './snapshot-fixtures.js';

/** CI runs a few; `WARREN_SNAPSHOT_CRASH_RUNS=50` for the long run. */
const RUNS = Number(process.env.WARREN_SNAPSHOT_CRASH_RUNS ?? 10);
const CHILD = join(fileURLToPath(new URL('.', import.meta.url)), 'commit-loop-child.js');

/** Runs the commit loop until it has committed once, then kills it with SIGKILL after a random delay. */
async function runAndKill(dataDir: string, workerId: string, delayMs: number): Promise<{ acked: number; called: number; stderr: string }> {
  const child = spawn(process.execPath, [CHILD, dataDir, workerId], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let stderr = '';
  let acked = -1;
  let called = -1;
  let killTimer: NodeJS.Timeout | undefined;
  let exitInfo = '';
  // `close`, not `exit`: every line the child wrote before it died has been read by then.
  const exited = new Promise<void>((resolve) => child.once('close', (code, signal) => {
    exitInfo = `exit ${code} ${signal}`;
    resolve();
  }));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    const lines = out.split('\n').filter((l) => l.startsWith('committed '));
    if (lines.length > 0) acked = Number(lines[lines.length - 1]!.split(' ')[1]);
    const calls = out.split('\n').filter((l) => l.startsWith('called '));
    if (calls.length > 0) called = Number(calls[calls.length - 1]!.split(' ')[1]);
    if (acked > 0) killTimer ??= setTimeout(() => child.kill("SIGKILL"), delayMs);
  });
  // Only keeps a child that never commits from hanging the suite: far past a loaded machine's start.
  const guard = setTimeout(() => child.kill('SIGKILL'), 10 * 60_000);
  await exited;
  clearTimeout(guard);
  clearTimeout(killTimer);
  return { acked, called, stderr: `${exitInfo} ${stderr}` };
}

test(`a process committing in a loop, killed with SIGKILL ${RUNS} times: the latest snapshot always restores, the durable dir keeps every acknowledged call, the store verifies clean`, async () => {
  const data = makeTempDir('warren-snap-crash-');
  const work = makeTempDir('warren-snap-crash-work-');
  // Guest threads are unref'd (a server's socket keeps a real node alive): while this test waits
  // on a node's thread with no server listening, the event loop must not run dry.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let workerId: string;
  const setup = await startTestServer({ dataDir: data.path });
  try {
    await pushSnapComponent(setup.client, work.path, { name: 'crashy' });
    workerId = (await createWorker(setup.client, 'sh.snap.crashy', 'k1')).id;
    await value(setup.client, workerId, 'grow', [1024]);
  } finally {
    await setup.close();
  }
  try {
    let lastAcked = 0;
    for (let run = 0; run < RUNS; run++) {
      const { acked, called, stderr } = await runAndKill(data.path, workerId, Math.floor(Math.random() * 400));
      assert.ok(acked > 0, `run ${run}: the child never committed: ${stderr}`);
      const node = await WarrenNode.open({ dataDir: data.path, jobThreads: 1 });
      try {
        const ctx = node.ctx;
        const record = await getWorker(ctx, workerId);
        assert.ok(record.lastCommit, `run ${run}: no commit recorded`);
        assert.equal(record.lastSnapshot, record.lastCommit, `run ${run}: the latest snapshot is the last commit`);
        const snap = await getSnapshot(ctx, record.lastCommit!);
        assert.equal(snap.kind, 'commit');
        const verify = await verifyStore({ blobs: ctx.ports.blobs, registry: ctx.ports.registry });
        assert.deepEqual([verify.missing, verify.corrupt], [[], []], `run ${run}: store not clean`);
        const get = await invokeWorker(ctx, workerId, { export: 'get' });
        assert.equal(get.resumedFrom, record.lastCommit, `run ${run}: resumed from the latest commit`);
        const inMemory = Number(get.returns![0]);
        const inFile = Number((await invokeWorker(ctx, workerId, { export: 'file_count' })).returns![0]);
        // The durable dir is never rolled back by a restart, as a disk is not: it holds the write of
        // the last acknowledged call, or that of the one call in flight when the kill came, which
        // the guest writes with fopen("w"): truncated first, so a kill inside it leaves the file
        // empty (read_int's -1000), as it would for any process killed there.
        const TORN = -1000;
        assert.ok([called, called + 1, TORN].includes(inFile), `run ${run}: the durable dir says ${inFile}; the last acknowledged call returned ${called}`);
        assert.ok(inFile === TORN || inFile === inMemory || inFile === inMemory + 1, `run ${run}: memory says ${inMemory}, the durable dir ${inFile}`);
        assert.ok(inMemory >= acked, `run ${run}: restored ${inMemory}, but ${acked} was acknowledged as committed`);
        assert.ok(inMemory <= acked + 1, `run ${run}: restored ${inMemory}, beyond the one commit in flight after ${acked}`);
        assert.ok(inMemory > lastAcked || run === 0);
        lastAcked = inMemory;
      } finally {
        await node.close();
      }
    }
  } finally {
    clearInterval(keepAlive);
    data.dispose();
    work.dispose();
  }
});
