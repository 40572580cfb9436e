import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest } from '../../src/manifest/parse-manifest.js';
import type { WorkerRecord } from '../../src/records.js';
import type { ClusterClock } from '../../src/services/cluster/cluster-clock.js';
import { pushComponent } from '../../src/services/components/push-component.js';
import { commitWorker } from '../../src/services/instances/index.js';
import { invokeWorker } from '../../src/services/instances/invoke-worker.js';
import { WarrenNode } from '../../src/services/warren-node.js';
import { createWorker } from '../../src/services/workers/create-worker.js';
import { workerKey } from '../../src/services/workers/worker-keys.js';
import { startNatsServer } from '../support/nats-server.js';
import { fixturePath, makeTempDir } from '../support/temp-dir.js';

const HOUR = 3_600_000;
// Heartbeats and monitor passes are driven by hand (see test/cluster/clock-skew.test.ts).
const times = { heartbeatMs: 60_000, deadAfterMs: 120_000, monitorMs: HOUR, evictEveryMs: HOUR };

/** A correct wall clock and a monotonic clock that moves only by `advance`. */
function handClock(): ClusterClock & { advance(ms: number): void } {
  let t = 1_000_000;
  return { wall: () => Date.now(), monotonic: () => t, advance: (ms) => void (t += ms) };
}

test('failover: a component worker committed on a node that dies is resumed on another with its JS Map', async () => {
  const tmp = makeTempDir('warren-comp-failover-');
  const nats = await startNatsServer({ storeDir: join(tmp.path, 'nats') });
  const closers: (() => Promise<unknown>)[] = [];
  try {
    const a = await WarrenNode.open({ dataDir: join(tmp.path, 'a'), nodeId: 'a', nats: [nats.url], jobThreads: 1, cluster: times });
    closers.push(() => a.close());
    const manifest = parseManifest('name = "shop"\nnamespace = "comp"\nversion = "1.0.0"\nbinary = "m.wasm"\n[limits]\nmemory = "256MiB"\ntimeout = "10m"\n');
    await pushComponent(a.ctx, { manifest, module: readFileSync(fixturePath('typed.component.wasm')) });
    const w = await createWorker(a.ctx, { component: 'comp.shop', name: 'held-by-a' });
    assert.equal(w.node, 'a');
    assert.equal((await invokeWorker(a.ctx, w.id, { export: 'add', args: ['apple', 3] })).result, 3);
    assert.equal((await invokeWorker(a.ctx, w.id, { export: 'add', args: ['pear', 1] })).result, 1);
    const committed = await commitWorker(a.ctx, w.id);
    assert.equal(committed.snapshot.scope, 'full');

    const clock = handClock();
    const b = await WarrenNode.open({ dataDir: join(tmp.path, 'b'), nodeId: 'b', nats: [nats.url], jobThreads: 1, cluster: { ...times, clock } });
    closers.unshift(() => b.close());
    await b.cluster!.start();
    // a stops beating, as if it died; b judges it dead after deadAfterMs of its own clock.
    await a.cluster!.heartbeat.beatOnce();
    await a.cluster!.heartbeat.stop();
    assert.equal((await b.cluster!.node('a'))?.alive, true, 'first seen: alive');
    clock.advance(times.deadAfterMs + 1);
    await b.cluster!.heartbeat.beatOnce();
    assert.equal((await b.cluster!.node('a'))?.alive, false);
    await b.cluster!.monitor.passOnce();
    const pass = b.cluster!.monitor.lastPass;
    assert.equal(pass?.orphans, 1, JSON.stringify(pass));
    assert.equal(pass?.outcomes[0]?.outcome, 'resumed', JSON.stringify(pass));
    assert.equal((await b.ctx.ports.registry.get<WorkerRecord>(workerKey(w.id)))?.value.node, 'b');

    const items = await invokeWorker(b.ctx, w.id, { export: 'items', args: [] });
    assert.deepEqual(items.result, [{ name: 'apple', count: 3 }, { name: 'pear', count: 1 }], 'the Map of the commit, on node b');
    assert.equal((await invokeWorker(b.ctx, w.id, { export: 'add', args: ['apple', 1] })).result, 4);
  } finally {
    for (const c of closers) await c().catch(() => undefined);
    await nats.stop();
    tmp.dispose();
  }
});
