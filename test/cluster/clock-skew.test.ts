import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildApp } from '../../src/api/build-app.js';
import { routePlugins } from '../../src/api/route-plugins.js';
import { ApiClient } from '../../src/cli/api-client.js';
import { pushComponentDir } from '../../src/cli/push-component-dir.js';
import type { WorkerRecord } from '../../src/records.js';
import type { ClusterClock } from '../../src/services/cluster/cluster-clock.js';
import { WarrenNode } from '../../src/services/warren-node.js';
import { createWorker } from '../../src/services/workers/create-worker.js';
import { workerKey } from '../../src/services/workers/worker-keys.js';
import { startNatsServer } from '../support/nats-server.js';
import { makeTempDir, repoRoot } from '../support/temp-dir.js';

const HOUR = 3_600_000;
// Every heartbeat and monitor pass below is driven by hand: the timers are set far beyond the
// test's length, and b's monotonic clock only moves when the test moves it.
const times = { heartbeatMs: 60_000, deadAfterMs: 120_000, monitorMs: HOUR, evictEveryMs: HOUR };

/** A clock whose wall time is `skewMs` off this machine's; monotonic time is the real one. */
function skewedClock(skewMs: number): ClusterClock {
  return { wall: () => Date.now() + skewMs, monotonic: () => performance.now() };
}

/** A correct wall clock and a monotonic clock that moves only by `advance`. */
function handClock(): ClusterClock & { advance(ms: number): void } {
  let t = 1_000_000;
  return { wall: () => Date.now(), monotonic: () => t, advance: (ms) => void (t += ms) };
}

/**
 * Node a (wall clock `skewMs` off) holds a worker; node b judges it. Returns both nodes, b's
 * hand clock and the worker id; `close` stops everything.
 */
async function twoNodes(tmp: string, natsUrl: string, skewMs: number) {
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const c of closers) await c().catch(() => undefined);
  };
  try {
    const a = await WarrenNode.open({ dataDir: join(tmp, 'a'), nodeId: 'a', nats: [natsUrl], jobThreads: 1, cluster: { ...times, clock: skewedClock(skewMs) } });
    closers.push(() => a.close());
    const app = await buildApp({ node: a, plugins: routePlugins });
    closers.unshift(() => app.close());
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const { token } = await a.tokens.issue({ sub: 'ops', role: 'admin', ttlMs: HOUR });
    await pushComponentDir(new ApiClient({ server: url, token }), join(repoRoot, 'examples', 'counter'));
    const worker = await createWorker(a.ctx, { component: 'sh.warren.counter', name: 'held-by-a' });
    assert.equal(worker.node, 'a');

    const clock = handClock();
    const b = await WarrenNode.open({ dataDir: join(tmp, 'b'), nodeId: 'b', nats: [natsUrl], jobThreads: 1, cluster: { ...times, clock } });
    closers.unshift(() => b.close());
    await b.cluster!.start();
    return { a, b, clock, workerId: worker.id, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Moves b's clock past its own warm-up (the monitor only judges after deadAfterMs of its own beats). */
async function warmUp(b: WarrenNode, clock: { advance(ms: number): void }): Promise<void> {
  clock.advance(times.deadAfterMs + 1);
  await b.cluster!.heartbeat.beatOnce();
}

test('a live node whose wall clock is an hour behind is not failed over', async () => {
  const tmp = makeTempDir('warren-clock-skew-');
  const nats = await startNatsServer({ storeDir: join(tmp.path, 'nats') });
  let nodes: Awaited<ReturnType<typeof twoNodes>> | undefined;
  try {
    nodes = await twoNodes(tmp.path, nats.url, -HOUR);
    const { a, b, clock, workerId } = nodes;
    assert.equal((await b.cluster!.node('a'))?.alive, true, 'first seen: alive');
    await warmUp(b, clock);
    await a.cluster!.heartbeat.beatOnce();
    const seen = await b.cluster!.node('a');
    assert.equal(seen?.alive, true, `a beat within deadAfterMs of b's clock: ${JSON.stringify(seen)}`);
    await b.cluster!.monitor.passOnce();
    assert.deepEqual(b.cluster!.monitor.lastPass, { orphans: 0, outcomes: [] }, 'nothing of a is claimed');
    assert.equal((await b.ctx.ports.registry.get<WorkerRecord>(workerKey(workerId)))?.value.node, 'a');
  } finally {
    await nodes?.close();
    await nats.stop();
    tmp.dispose();
  }
});

test('a dead node whose wall clock is an hour ahead is failed over once its heartbeat stops changing', async () => {
  const tmp = makeTempDir('warren-clock-skew-');
  const nats = await startNatsServer({ storeDir: join(tmp.path, 'nats') });
  let nodes: Awaited<ReturnType<typeof twoNodes>> | undefined;
  try {
    nodes = await twoNodes(tmp.path, nats.url, HOUR);
    const { a, b, clock, workerId } = nodes;
    await a.cluster!.heartbeat.beatOnce();
    assert.equal((await b.cluster!.node('a'))?.alive, true);
    // a stops beating (as if it died); its last heartbeat says an hour from now.
    await a.cluster!.heartbeat.stop();
    clock.advance(times.deadAfterMs / 2);
    assert.equal((await b.cluster!.node('a'))?.alive, true, 'not yet deadAfterMs without a change');
    await warmUp(b, clock);
    const seen = await b.cluster!.node('a');
    assert.equal(seen?.alive, false, `a's record has not changed for longer than deadAfterMs: ${JSON.stringify(seen)}`);
    await b.cluster!.monitor.passOnce();
    const pass = b.cluster!.monitor.lastPass;
    assert.equal(pass?.orphans, 1, JSON.stringify(pass));
    assert.equal(pass?.outcomes[0]?.outcome, 'adopted', JSON.stringify(pass));
    assert.equal((await b.ctx.ports.registry.get<WorkerRecord>(workerKey(workerId)))?.value.node, 'b');
  } finally {
    await nodes?.close();
    await nats.stop();
    tmp.dispose();
  }
});
