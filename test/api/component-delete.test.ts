import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pushComponentDir } from '../../src/cli/push-component-dir.js';
import { isWarrenError } from '../../src/errors.js';
import type { WorkerRecord } from '../../src/records.js';
import { startTestServer } from '../support/start-server.js';
import { repoRoot } from '../support/temp-dir.js';

test('deleting a version is refused while a worker uses it; afterwards it is no longer a root and GC frees its blobs', async () => {
  const server = await startTestServer();
  try {
    const { record } = await pushComponentDir(server.client, join(repoRoot, 'examples/counter'));
    const worker = await server.client.json<WorkerRecord>('POST', '/v1/workers', { component: record.fq, version: record.version, name: 'c1' });
    await assert.rejects(
      server.client.json('DELETE', `/v1/components/${record.fq}/versions/${record.version}`),
      (e) => isWarrenError(e, 'E_IN_USE') && e.details.status === 409 && (e.details.workers as string[]).includes(worker.id),
    );
    assert.ok(await server.node.ctx.ports.registry.get(`component/${record.fq}/${record.version}`), 'refused delete changed nothing');
    await server.client.json('DELETE', `/v1/workers/${worker.id}`);
    await server.client.json('DELETE', `/v1/components/${record.fq}/versions/${record.version}`);
    await assert.rejects(server.client.json('GET', `/v1/components/${record.fq}/versions/${record.version}`), (e) => isWarrenError(e, 'E_NOT_FOUND'));
    const gc = await server.client.json<{ swept: { integrity: string }[] }>('POST', '/v1/admin/gc', { graceMs: 0 });
    const swept = new Set(gc.swept.map((b) => b.integrity));
    assert.ok(swept.has(record.module.digest), 'module blob swept');
    assert.ok(record.fileTree && swept.has(record.fileTree), 'file tree blob swept');
    assert.equal(await server.node.ctx.ports.blobs.has(record.module.digest), false);
    const verify = await server.client.json<{ missing: unknown[]; corrupt: unknown[] }>('POST', '/v1/admin/verify', {});
    assert.deepEqual([verify.missing, verify.corrupt], [[], []]);
  } finally {
    await server.close();
  }
});
