import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { isWarrenError } from '../../src/errors.js';
import { contentPath } from '../../src/ports/embedded/disk-blobs.js';
import { openNatsPorts } from '../../src/ports/nats/open-nats-ports.js';
import { startNatsServer } from '../support/nats-server.js';
import { makeTempDir } from '../support/temp-dir.js';

test('openNatsPorts: single server, R1 buckets created once and shared by two nodes; close releases the connection', async () => {
  const tmp = makeTempDir('warren-nats-open-');
  const server = await startNatsServer({ jetstream: true, storeDir: join(tmp.path, 'server') });
  try {
    const a = await openNatsPorts({ servers: [server.url], dataDir: join(tmp.path, 'a'), nodeId: 'a' });
    const b = await openNatsPorts({ servers: [server.url], dataDir: join(tmp.path, 'b'), nodeId: 'b' });
    try {
      const blob = await a.blobs.put('shared');
      assert.equal(a.localBlobs.localPathHint(blob.integrity), contentPath(join(tmp.path, 'a', 'store'), blob.integrity));
      assert.equal(await b.localBlobs.has(blob.integrity), false);
      assert.equal(await b.blobs.path(blob.integrity), contentPath(join(tmp.path, 'b', 'store'), blob.integrity));
      const rev = await a.registry.compareAndSet('component/x.y/1.0.0', { blob: blob.integrity }, 0);
      assert.deepEqual(await b.registry.get('component/x.y/1.0.0'), { key: 'component/x.y/1.0.0', value: { blob: blob.integrity }, revision: rev });
      await b.bus.serve('warren.node.b.>', async (p) => ({ got: p.n }));
      assert.deepEqual(await a.bus.request('warren.node.b.x', { n: 1 }), { got: 1 });
    } finally {
      await a.close();
      await b.close();
    }
    // a third node opens the existing buckets (no replica change, no error) and sees the data
    const c = await openNatsPorts({ servers: [server.url], dataDir: join(tmp.path, 'c'), nodeId: 'c', replicas: 1 });
    assert.equal((await c.registry.list('component/')).length, 1);
    await c.close();
    await assert.rejects(c.registry.get('component/x.y/1.0.0'), (e) => isWarrenError(e) && (e.code === 'E_UNAVAILABLE' || e.code === 'E_INTERNAL'));
  } finally {
    await server.stop();
    tmp.dispose();
  }
});

test('openNatsPorts: no server → E_UNAVAILABLE', async () => {
  const tmp = makeTempDir('warren-nats-open-');
  try {
    await assert.rejects(
      openNatsPorts({ servers: ['nats://127.0.0.1:1'], dataDir: tmp.path, nodeId: 'x' }),
      (e) => isWarrenError(e, 'E_UNAVAILABLE'),
    );
  } finally {
    tmp.dispose();
  }
});

test('openNatsPorts: a server without JetStream → E_UNAVAILABLE once the ready deadline has passed', async () => {
  const tmp = makeTempDir('warren-nats-open-');
  const server = await startNatsServer({ jetstream: false, storeDir: join(tmp.path, 'server') });
  try {
    await assert.rejects(
      openNatsPorts({ servers: [server.url], dataDir: join(tmp.path, 'a'), nodeId: 'a', readyTimeoutMs: 0 }),
      (e) => isWarrenError(e, 'E_UNAVAILABLE') && /JetStream not ready/.test(e.message),
    );
  } finally {
    await server.stop();
    tmp.dispose();
  }
});
