import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { isWarrenError } from '../../src/errors.js';
import { openNatsPorts } from '../../src/ports/nats/open-nats-ports.js';
import type { Ports } from '../../src/ports/open-ports.js';
import { startNatsCluster } from '../support/nats-server.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * Retries `op` while it fails with E_UNAVAILABLE, up to minutes (a deadline against a hang: how
 * long the election takes is not what is tested). After a SIGKILL, nats-server 2.9 takes
 * seconds to elect new stream leaders and to notice the dead peer; until then an ephemeral
 * (ordered) consumer, which Object Store gets and KV key lists use, can be placed on the dead
 * server and its creation times out.
 */
async function afterFailover<T>(op: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (!isWarrenError(err, 'E_UNAVAILABLE') || Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
}

test('nats cluster: replicas 3; after SIGKILL of one server, reads, CAS writes, blobs and bus work through the others', async () => {
  const tmp = makeTempDir('warren-nats-cluster-');
  const cluster = await startNatsCluster(3, join(tmp.path, 'servers'));
  const opened: Ports[] = [];
  try {
    const a = await openNatsPorts({ servers: [cluster.urls[0]!], dataDir: join(tmp.path, 'node-a'), nodeId: 'a' });
    opened.push(a);
    const nc = await connect({ servers: cluster.urls[0]! });
    try {
      const jsm = await jetstreamManager(nc);
      assert.equal((await jsm.streams.info('KV_warren_registry')).config.num_replicas, 3, 'registry bucket is R3');
      assert.equal((await jsm.streams.info('OBJ_warren_blobs')).config.num_replicas, 3, 'blob bucket is R3');
    } finally {
      await nc.close();
    }

    const key = 'worker/w:1';
    const r1 = await a.registry.compareAndSet(key, { state: 'running', node: 'a' }, 0);
    await a.registry.put('component/sh.serval.loudify/1.2.0', { module: 'm' });
    const blob = await a.blobs.put('module bytes');
    await a.bus.serve('warren.node.a.>', async (p) => ({ pong: p.ping }));

    await cluster.servers[2]!.kill();

    const b = await openNatsPorts({ servers: [cluster.urls[1]!], dataDir: join(tmp.path, 'node-b'), nodeId: 'b' });
    opened.push(b);
    const got = await afterFailover(() => b.registry.get(key));
    assert.deepEqual(got, { key, value: { state: 'running', node: 'a' }, revision: r1 });
    assert.deepEqual((await afterFailover(() => b.registry.list('component/'))).map((e) => e.key), ['component/sh.serval.loudify/1.2.0']);
    const r2 = await b.registry.compareAndSet(key, { state: 'paused', node: 'b' }, r1);
    await assert.rejects(a.registry.compareAndSet(key, { state: 'stale' }, r1), (e) => isWarrenError(e, 'E_CONFLICT'));
    const r3 = await a.registry.compareAndSet(key, { state: 'running', node: 'a' }, r2);
    assert.ok(r3 > r2 && r2 > r1);
    assert.equal((await b.registry.get(key))?.revision, r3);

    assert.equal(await b.localBlobs.has(blob.integrity), false);
    assert.equal((await afterFailover(() => b.blobs.get(blob.integrity))).toString(), 'module bytes', 'read-through after the kill');
    const fromB = await afterFailover(() => b.blobs.put('written after the kill'));
    assert.equal((await afterFailover(() => a.blobs.get(fromB.integrity))).toString(), 'written after the kill');

    // Through the surviving route; a's subscription reaches server 2 over the route asynchronously,
    // so a "no responder" before it has is retried too.
    assert.deepEqual(await afterFailover(() => b.bus.request('warren.node.a.ping', { ping: 7 }, { timeoutMs: 120_000 })), { pong: 7 });
  } finally {
    for (const p of opened) await p.close().catch(() => undefined);
    await cluster.stopAll();
    tmp.dispose();
  }
});
