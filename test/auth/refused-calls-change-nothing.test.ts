import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { declaredRoutes } from '../../src/api/auth/index.js';
import { pushComponentDir } from '../../src/cli/push-component-dir.js';
import type { WorkerRecord } from '../../src/records.js';
import { TokenService } from '../../src/services/tokens/index.js';
import { startTestServer } from '../support/start-server.js';
import { makeTempDir, repoRoot } from '../support/temp-dir.js';
import { VARIANTS, issueMatrixTokens, type MatrixTokens } from './route-matrix.js';

/** Everything a call could change: registry keys and revisions, blob names, worker files. */
async function stateOf(server: Awaited<ReturnType<typeof startTestServer>>): Promise<string> {
  const { registry, blobs } = server.node.ctx.ports;
  const keys: string[] = [];
  for (const prefix of ['component/', 'worker/', 'worker-name/', 'snapshot/', 'precompile/', 'token/', 'node/', 'cluster/']) {
    for (const e of await registry.list(prefix)) keys.push(`${e.key}@${e.revision}`);
  }
  const blobNames: string[] = [];
  for await (const b of blobs.list()) blobNames.push(b.integrity);
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)).map((p) => `${d.name}/${p}`) : [d.name]));
  return JSON.stringify({ keys: keys.sort(), blobs: blobNames.sort(), files: walk(server.node.ctx.layout.workers).sort() });
}

/**
 * Every declared route of the real API (dev mode, so the reset route is there too), called with
 * every credential that must be refused — the strongest role with an expired, forged, foreign-key,
 * revoked or missing token, and valid tokens of a role or namespace that may not act — and a body
 * that would change something if it got through. Nothing may change.
 */
test('refused calls change nothing: every route × every refused credential', async (t) => {
  const server = await startTestServer({ dev: true });
  const other = makeTempDir('warren-refused-other-');
  const otherServer = await TokenService.open({ dataDir: other.path, registry: server.node.ctx.ports.registry });
  try {
    const { record } = await pushComponentDir(server.client, join(repoRoot, 'examples/counter'));
    const worker = await server.client.json<WorkerRecord>('POST', '/v1/workers', { component: record.fq, name: 'kept' });
    const tokens: MatrixTokens = await issueMatrixTokens(server.node.tokens, otherServer, 'sh.elsewhere', 'sh.beta');
    const victim = (await server.node.tokens.list()).find((r) => r.role === 'admin' && !r.revoked)!;
    const params: Record<string, string> = { fq: record.fq, version: record.version, id: worker.id, integrity: record.module.digest, jti: victim.jti, name: 'kept' };
    const body = JSON.stringify({ component: record.fq, name: 'intruder', version: record.version, role: 'admin', sub: 'x', ttl: '1d', graceMs: 0, export: 'increment', args: [], snapshot: 'x' });
    const refused: { who: string; token: string | undefined; writesOnly: boolean }[] = [];
    for (const variant of VARIANTS) if (variant !== 'valid') refused.push({ who: `admin/${variant}`, token: tokens.admin[variant], writesOnly: false });
    // Valid tokens that may read but must not write here: another project, a shared reader.
    refused.push({ who: 'projectB(sh.beta)/valid', token: tokens.projectB.valid, writesOnly: true });
    refused.push({ who: 'projectA(sh.elsewhere)/valid', token: tokens.projectA.valid, writesOnly: true });
    refused.push({ who: 'sharedReader/valid', token: tokens.sharedReader.valid, writesOnly: true });

    const before = await stateOf(server);
    let sent = 0;
    const passed: string[] = [];
    for (const route of declaredRoutes(server.app)) {
      if (route.role === 'public' || route.url.includes('*')) continue;
      const write = route.method !== 'GET' && route.method !== 'HEAD';
      // Any valid token may mint a console login link for itself (it grants nothing the token
      // does not): the link is checked by the console tests; here it is refused like a read.
      const selfService = route.method === 'POST' && route.url === '/v1/console/links';
      const url = route.url.replace(/:([A-Za-z_]+)/g, (_m, name: string) => encodeURIComponent(params[name] ?? 'x'));
      for (const r of refused) {
        if (r.writesOnly && (!write || selfService)) continue;
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (r.token) headers.authorization = `Bearer ${r.token}`;
        const res = await fetch(server.url + url, { method: route.method, headers, body: write ? body : undefined });
        await res.arrayBuffer();
        sent++;
        if (res.status < 400) passed.push(`${route.method} ${url} as ${r.who}: ${res.status}`);
      }
    }
    assert.deepEqual(passed, [], 'every refused credential was refused');
    assert.equal(await stateOf(server), before, 'no refused call changed the registry, the store or a worker');
    const first = await server.client.json<{ returns: number[] }>('POST', `/v1/workers/${worker.id}/invoke`, { export: 'increment', args: [] });
    assert.deepEqual(first.returns, [1], 'no refused invoke reached the worker');
    t.diagnostic(`${sent} refused calls, nothing changed`);
  } finally {
    await otherServer.close();
    await server.close();
    other.dispose();
  }
});
