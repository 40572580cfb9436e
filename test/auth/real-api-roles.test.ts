import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp } from '../../src/api/build-app.js';
import { routePlugins } from '../../src/api/route-plugins.js';
import { assertEveryRouteDeclaresRole, declaredRoutes } from '../../src/api/auth/index.js';
import { WarrenNode } from '../../src/services/warren-node.js';
import { TokenService } from '../../src/services/tokens/index.js';
import { makeTempDir } from '../support/temp-dir.js';
import { casesFromRoutes, injectSender, issueMatrixTokens, runRouteMatrix } from './route-matrix.js';

/**
 * The real API (dev mode, every route plugin): every route declares a role, and the hook
 * enforces what each declares for every credential × token variant. Whether each declaration is
 * the right one for its route is a separate, per-route table (to come with the routes).
 */
test('real API: every route declares a role, and the declared roles are enforced', async (t) => {
  const tmp = makeTempDir('warren-real-auth-');
  const other = makeTempDir('warren-real-auth-other-');
  const node = await WarrenNode.open({ dataDir: tmp.path, jobThreads: 1 });
  const app = await buildApp({ node, dev: true, plugins: routePlugins });
  const otherServer = await TokenService.open({ dataDir: other.path, registry: node.ctx.ports.registry });
  try {
    await app.ready();
    assertEveryRouteDeclaresRole(app);
    const routes = declaredRoutes(app);
    assert.ok(routes.some((r) => r.url === '/v1/tokens' && r.role === 'admin'));
    assert.ok(routes.some((r) => r.url === '/v1/whoami'));
    const cases = casesFromRoutes(routes, 'sh.alpha');
    assert.ok(cases.some((c) => c.role === 'dev'), 'dev mode routes are in the matrix');
    const tokens = await issueMatrixTokens(node.tokens, otherServer, 'sh.alpha', 'sh.beta');
    const { checked, failures } = await runRouteMatrix({ send: injectSender(app), tokens, cases, nsA: 'sh.alpha', nsB: 'sh.beta' });
    assert.deepEqual(failures, []);
    assert.equal(checked, cases.length * 30);
    t.diagnostic(`${cases.length} routes × 5 credentials × 6 variants = ${checked} requests`);
  } finally {
    await otherServer.close();
    await app.close();
    await node.close();
    tmp.dispose();
    other.dispose();
  }
});
