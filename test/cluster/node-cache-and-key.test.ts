import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp } from '../../src/api/build-app.js';
import { routePlugins } from '../../src/api/route-plugins.js';
import { ApiClient } from '../../src/cli/api-client.js';
import { pushComponentDir } from '../../src/cli/push-component-dir.js';
import { componentVersionBlobs } from '../../src/services/cluster/component-blobs.js';
import { evictNodeCache } from '../../src/services/cluster/evict-node-cache.js';
import { prefetchComponent } from '../../src/services/cluster/prefetch-component.js';
import { CLUSTER_SERVER_KEY } from '../../src/services/cluster/shared-server-key.js';
import { getComponentVersion } from '../../src/services/components/component-keys.js';
import { openServerKey } from '../../src/services/tokens/server-key.js';
import { WarrenNode } from '../../src/services/warren-node.js';
import { createWorker } from '../../src/services/workers/create-worker.js';
import { startNatsServer } from '../support/nats-server.js';
import { hostFileOf } from '../workers/worker-fixtures.js';
import { makeTempDir, repoRoot } from '../support/temp-dir.js';

// Failover is not what this test is about: a dead-after of minutes, so a stalled process never
// marks b dead and moves its worker (which would change what eviction keeps).
const steady = { heartbeatMs: 200, deadAfterMs: 600_000, monitorMs: 200, evictEveryMs: 3_600_000 };

test('cluster key and node cache: one signing key for all nodes; prefetch fills the local store; eviction keeps the blobs of workers placed here', async () => {
  const tmp = makeTempDir('warren-cluster-cache-');
  const nats = await startNatsServer({ storeDir: join(tmp.path, 'nats') });
  const closers: (() => Promise<unknown>)[] = [];
  try {
    const a = await WarrenNode.open({ dataDir: join(tmp.path, 'a'), nodeId: 'a', nats: [nats.url], jobThreads: 1, cluster: steady });
    closers.push(() => a.close());
    const app = await buildApp({ node: a, plugins: routePlugins });
    closers.unshift(() => app.close());
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const aKey = readFileSync(join(tmp.path, 'a', 'server.key'), 'utf8');
    const stored = await a.ctx.ports.registry.get<{ pem: string }>(CLUSTER_SERVER_KEY);
    assert.equal(stored?.value.pem, aKey, 'the first node seeds the cluster with its own key');

    // b had a key of its own before it joined: it takes the cluster's, and keeps its old one aside.
    await openServerKey(join(tmp.path, 'b', 'server.key'));
    const bOwn = readFileSync(join(tmp.path, 'b', 'server.key'), 'utf8');
    const b = await WarrenNode.open({ dataDir: join(tmp.path, 'b'), nodeId: 'b', nats: [nats.url], jobThreads: 1, cluster: steady });
    closers.unshift(() => b.close());
    assert.equal(readFileSync(join(tmp.path, 'b', 'server.key'), 'utf8'), aKey);
    assert.equal(readFileSync(join(tmp.path, 'b', 'server.key.pre-cluster'), 'utf8'), bOwn);
    const { token } = await a.tokens.issue({ sub: 'ops', role: 'admin', ttlMs: 600_000 });
    assert.equal((await b.tokens.verify(token)).sub, 'ops', 'a token issued on a verifies on b');

    const client = new ApiClient({ server: url, token });
    await pushComponentDir(client, join(repoRoot, 'examples', 'counter'));
    const record = await getComponentVersion(b.ctx.ports.registry, 'sh.warren.counter');
    const needed = await componentVersionBlobs(b.ctx, record);
    assert.ok(needed.size >= 4, `module, file tree and files: ${needed.size}`);
    const first = await prefetchComponent(b.ctx, record, 4);
    assert.ok(first.fetched >= 3, `fetched ${first.fetched} of ${first.blobs}`);
    for (const i of needed) assert.equal(await b.ctx.ports.localBlobs.has(i), true, `${i} is in b's local store`);
    assert.equal((await prefetchComponent(b.ctx, record, 4)).fetched, 0, 'a warm cache fetches nothing');

    const junk = await b.ctx.ports.blobs.put('cached bytes no worker of b needs');
    const worker = await createWorker(b.ctx, { component: 'sh.warren.counter', name: 'kept' });
    assert.equal(worker.node, 'b');
    const evicted = await evictNodeCache(b.ctx, 0);
    assert.ok(evicted && evicted.evicted >= 1, JSON.stringify(evicted));
    assert.equal(await b.ctx.ports.localBlobs.has(junk.integrity), false, 'an unreferenced blob is evicted');
    for (const i of needed) assert.equal(await b.ctx.ports.localBlobs.has(i), true, `${i} (a worker here uses it) is kept`);
    const greeting = await hostFileOf(b.ctx, worker.id, '/static/greeting.txt');
    assert.ok(greeting.inLower && existsSync(greeting.hostPath), "the version's read-only tree on b outlives the eviction of the blobs it links");
    assert.equal((await b.ctx.ports.blobs.get(junk.integrity)).toString(), 'cached bytes no worker of b needs', 'read through again after eviction');

    // Cache use, for the cluster page: measured by the member's eviction pass, sent in its heartbeat.
    const member = a.cluster!;
    await member.evictOnce();
    await member.heartbeat.beatOnce();
    const view = await client.json<{ nodes: { id: string; cacheBytes?: number; cacheBudgetBytes?: number }[] }>('GET', '/v1/cluster/nodes');
    const aView = view.nodes.find((n) => n.id === 'a');
    assert.ok(aView && typeof aView.cacheBytes === 'number' && aView.cacheBytes > 0, `a's cache use is reported: ${JSON.stringify(aView)}`);
    assert.equal(aView.cacheBudgetBytes, 10 * 1024 ** 3, 'with the default budget');
  } finally {
    for (const close of closers) await close().catch(() => undefined);
    await nats.stop();
    tmp.dispose();
  }
});
