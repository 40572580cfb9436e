import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp } from '../../src/api/build-app.js';
import { routePlugins } from '../../src/api/route-plugins.js';
import { declaredRoutes } from '../../src/api/auth/index.js';
import { WarrenNode } from '../../src/services/warren-node.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * A cluster runs a request where its route's `config.placement` says (registerClusterRouting):
 * a route acting on one worker that forgot it would run on whichever node it reached, next to a
 * copy of the worker's files that is not the live one. Reads of the shared registry stay where
 * they land.
 */
test('every route acting on one worker declares placement "worker"; creates and job runs declare theirs; reads declare none', async () => {
  const tmp = makeTempDir('warren-route-placement-');
  const node = await WarrenNode.open({ dataDir: tmp.path, jobThreads: 1 });
  const app = await buildApp({ node, dev: true, plugins: routePlugins });
  try {
    await app.ready();
    const routes = declaredRoutes(app).filter((r) => r.method !== 'HEAD');
    const byKey = new Map(routes.map((r) => [`${r.method} ${r.url}`, r.placement]));
    const onOneWorker = routes.filter((r) => r.url.startsWith('/v1/workers/:id/') || (r.url === '/v1/workers/:id' && r.method !== 'GET'));
    assert.ok(onOneWorker.length >= 10, `found ${onOneWorker.length} worker routes`);
    assert.deepEqual(onOneWorker.filter((r) => r.placement !== 'worker').map((r) => `${r.method} ${r.url}`), []);
    assert.equal(byKey.get('POST /v1/workers'), 'new-worker');
    assert.equal(byKey.get('POST /v1/jobs/:fq/run'), 'job');
    for (const read of ['GET /v1/workers', 'GET /v1/workers/:id', 'GET /v1/components']) assert.equal(byKey.get(read), undefined, read);
    const others = routes.filter((r) => r.placement !== undefined && !onOneWorker.includes(r));
    assert.deepEqual(others.map((r) => `${r.method} ${r.url}`).sort(), ['POST /v1/jobs/:fq/run', 'POST /v1/workers']);
  } finally {
    await app.close();
    await node.close();
    tmp.dispose();
  }
});
