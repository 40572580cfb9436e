import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SqliteRegistry } from '../../src/ports/embedded/sqlite-registry.js';
import { ComponentVersionCache } from '../../src/services/components/version-cache.js';
import { componentKey } from '../../src/services/components/component-keys.js';
import type { ComponentVersionRecord } from '../../src/records.js';
import { makeTempDir } from '../support/temp-dir.js';

const record = (version: string): ComponentVersionRecord => ({
  fq: 'acme.tool', namespace: 'acme', name: 'tool', version, manifest: {}, manifestDigest: `sha256-m${version}`,
  module: { digest: `sha256-${version}`, size: 1 }, extensions: [], fileTree: null, filesSize: 0, contentDigest: version, createdAt: new Date(0).toISOString(),
});

test('the job path version cache follows pushes and deletes at once, and reports what the registry would', async () => {
  const tmp = makeTempDir();
  const registry = new SqliteRegistry(join(tmp.path, 'registry.sqlite'));
  const cache = new ComponentVersionCache(registry);
  await cache.start();
  try {
    await assert.rejects(cache.get('acme.tool'), { code: 'E_NOT_FOUND' });
    await registry.put(componentKey('acme.tool', '1.0.0'), record('1.0.0'));
    assert.equal((await cache.get('acme.tool')).version, '1.0.0');
    // A cached entry must not hide a newer push: the watch drops it.
    await registry.put(componentKey('acme.tool', '1.10.0'), record('1.10.0'));
    await registry.put(componentKey('acme.tool', '1.2.0'), record('1.2.0'));
    assert.equal((await cache.get('acme.tool')).version, '1.10.0', 'highest by semver, not by name');
    assert.equal((await cache.get('acme.tool', '1.2.0')).module.digest, 'sha256-1.2.0');
    await assert.rejects(cache.get('acme.tool', '9.9.9'), (err: Error & { code?: string }) => err.code === 'E_NOT_FOUND' && /known: 1\.0\.0, 1\.2\.0, 1\.10\.0/.test(err.message));
    await registry.delete(componentKey('acme.tool', '1.10.0'));
    assert.equal((await cache.get('acme.tool')).version, '1.2.0', 'a deleted latest is gone at once');
  } finally {
    cache.stop();
    await registry.close();
    tmp.dispose();
  }
});
