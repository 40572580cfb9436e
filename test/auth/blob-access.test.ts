import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ApiClient, readAll } from '../../src/cli/api-client.js';
import type { TokenRole } from '../../src/services/tokens/index.js';
import { startTestServer } from '../support/start-server.js';
import { fixturePath, makeTempDir } from '../support/temp-dir.js';
import { failure, pushTestComponent } from '../workers/worker-fixtures.js';

const server = await startTestServer();
const work = makeTempDir('warren-blob-access-');
after(async () => {
  await server.close();
  work.dispose();
});

async function clientAs(role: TokenRole, namespaces: string[] = []): Promise<ApiClient> {
  const { token } = await server.node.tokens.issue({ sub: `blob-${role}-${namespaces.join(',')}`, role, namespaces, ttlMs: 3600_000 });
  return new ApiClient({ server: server.url, token });
}

const blobPath = (integrity: string) => `/v1/blobs/${encodeURIComponent(integrity)}`;

test('a project token reads no blob by digest, not even its own namespace\'s; shared-reader, node and admin tokens do', async () => {
  const record = await pushTestComponent(server.client, work.path, 'sh.alpha', 'secret', '1.0.0', { files: { 'static/key.txt': 'alpha only\n' } });
  const wasm = readFileSync(fixturePath('worker_files.reactor.wasm'));
  const digests = [record.module.digest, record.fileTree!];

  const beta = await clientAs('project', ['sh.beta']);
  const alpha = await clientAs('project', ['sh.alpha']);
  // The component itself is hidden from the other namespace: its bytes by digest must be too.
  assert.equal((await failure(beta.raw('GET', '/v1/components/sh.alpha.secret/versions/1.0.0/module'))).status, 404);
  for (const [who, client] of [['sh.beta project', beta], ['sh.alpha project', alpha]] as const) {
    for (const digest of digests) {
      const got = await failure(client.raw('GET', blobPath(digest)));
      assert.deepEqual([got.status, got.code], [403, 'E_FORBIDDEN'], `${who} GET ${digest}`);
      assert.equal((await failure(client.raw('HEAD', blobPath(digest)))).status, 403, `${who} HEAD ${digest}`);
    }
  }
  // What a project token legitimately reads of its own namespace stays readable by name.
  assert.deepEqual(await readAll((await alpha.raw('GET', '/v1/components/sh.alpha.secret/versions/1.0.0/module')).body), wasm);

  for (const role of ['shared-reader', 'node', 'admin'] as const) {
    const client = await clientAs(role);
    assert.deepEqual(await readAll((await client.raw('GET', blobPath(record.module.digest))).body), wasm, `${role} reads the module blob`);
    assert.equal((await client.raw('HEAD', blobPath(record.fileTree!))).status, 200, `${role} HEAD`);
  }
});
