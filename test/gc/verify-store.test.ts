import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { verifyStore } from '../../src/services/gc/verify-store.js';
import { contentPath } from '../../src/ports/embedded/disk-blobs.js';
import { precompileVersion } from '../../src/precompile/precompile-version.js';
import { REGISTRY_PREFIX } from '../../src/records.js';
import { distinctModule, openStore, putComponent } from './gc-fixtures.js';

test('verifyStore reports missing and corrupt blobs, of every engine id, and changes nothing', async () => {
  const { blobs, registry, dispose } = await openStore();
  try {
    const { record } = await putComponent(blobs, 'sh.test.v', '1.0.0', distinctModule('pre_globals.wasm', 'v'), { files: [{ path: '/a', content: 'aaa' }] });
    await registry.put(`${REGISTRY_PREFIX.component}sh.test.v/1.0.0`, record);
    const map = await precompileVersion({ blobs, registry, record, extensions: [], engineId: 'old-engine', memoryMaxPages: 2 });
    const clean = await verifyStore({ blobs, registry });
    assert.deepEqual(clean.missing, []);
    assert.deepEqual(clean.corrupt, []);
    assert.equal(clean.records, 2);

    const main = map.artifacts.find((a) => a.role === 'main')!;
    await blobs.delete(main.digest);
    writeFileSync(contentPath(blobs.dir, record.manifestDigest), 'tampered');
    const res = await verifyStore({ blobs, registry });
    assert.deepEqual(res.missing, [{ key: 'precompile/old-engine/sh.test.v/1.0.0', integrity: main.digest }]);
    assert.deepEqual(res.corrupt, [record.manifestDigest]);
    assert.equal(res.blobsChecked, clean.blobsChecked - 1);
    assert.ok(await registry.get('precompile/old-engine/sh.test.v/1.0.0'), 'verify sweeps nothing');
  } finally {
    await dispose();
  }
});
