import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiskBlobs } from '../../src/ports/embedded/disk-blobs.js';
import { SqliteRegistry } from '../../src/ports/embedded/sqlite-registry.js';
import { artifactMapKey, getArtifactMap, listArtifactMaps } from '../../src/precompile/artifact-map.js';
import { precompileVersion } from '../../src/precompile/precompile-version.js';
import { engineId } from '../../src/precompile/engine-id.js';
import { readModuleLayout } from '../../src/precompile/read-module-layout.js';
import type { Blobs } from '../../src/ports/blobs.js';
import type { ComponentVersionRecord } from '../../src/records.js';
import { fixturePath, makeTempDir } from '../support/temp-dir.js';
import { stubImports } from './stub-imports.js';

async function openStore() {
  const dir = makeTempDir();
  const blobs = new DiskBlobs(join(dir.path, 'store'));
  const registry = new SqliteRegistry(join(dir.path, 'registry.db'));
  return { blobs, registry, dispose: async () => (await registry.close(), dir.dispose()) };
}

/** A component record as push writes it, over a module stored in `blobs`. */
export async function componentRecord(blobs: Blobs, fq: string, version: string, wasm: Uint8Array, extensions: ComponentVersionRecord[] = []): Promise<ComponentVersionRecord> {
  const module = await blobs.put(wasm);
  const manifest = { name: fq.split('.').pop()!, namespace: fq.split('.').slice(0, -1).join('.'), version };
  const manifestBlob = await blobs.put(JSON.stringify(manifest));
  return {
    fq,
    namespace: manifest.namespace,
    name: manifest.name,
    version,
    manifest,
    manifestDigest: manifestBlob.integrity,
    module: { digest: module.integrity, size: module.size },
    extensions: extensions.map((e) => ({ fq: e.fq, version: e.version, module: e.module.digest })),
    fileTree: null,
    filesSize: 0,
    contentDigest: module.integrity,
    createdAt: new Date().toISOString(),
  };
}

const load = (name: string) => new Uint8Array(readFileSync(fixturePath(name)));

test('precompileVersion builds the DAG for a main module and its extension, then hits the cache', async () => {
  const { blobs, registry, dispose } = await openStore();
  try {
    const ext = await componentRecord(blobs, 'sh.serval.birdfeeder', '1.0.0', load('pre_extension.wasm'));
    const main = await componentRecord(blobs, 'sh.serval.loudify', '1.2.0', load('pre_ext_import.wasm'), [ext]);
    const eid = engineId('precompile-test');
    const map = await precompileVersion({ blobs, registry, record: main, extensions: [ext], engineId: eid, memoryMaxPages: 4 });

    assert.equal(map.engineId, eid);
    assert.deepEqual(map.artifacts.map((a) => a.role).sort(), [
      'analysis:sh.serval.birdfeeder', 'analysis:sh.serval.loudify', 'exported:sh.serval.birdfeeder', 'exported:sh.serval.loudify',
      'extension:sh.serval.birdfeeder', 'main',
    ]);
    const byRole = new Map(map.artifacts.map((a) => [a.role, a]));
    // The DAG: source → exported → limited; source → analysis.
    assert.deepEqual(byRole.get('exported:sh.serval.loudify')!.parents, [main.module.digest]);
    assert.deepEqual(byRole.get('main')!.parents, [byRole.get('exported:sh.serval.loudify')!.digest]);
    assert.deepEqual(byRole.get('extension:sh.serval.birdfeeder')!.parents, [byRole.get('exported:sh.serval.birdfeeder')!.digest]);
    assert.equal(byRole.get('main')!.transform, 'memory-limit@1(max=4)');
    for (const a of map.artifacts) assert.equal((await blobs.get(a.digest)).length, a.size);
    const analysis = JSON.parse((await blobs.get(byRole.get('analysis:sh.serval.loudify')!.digest)).toString());
    assert.deepEqual(analysis.importModules, ['wasi_snapshot_preview1', 'sh.serval.birdfeeder']);

    // The images link and run: the extension's global is exported, the memory limit is in place.
    const extWasm = new Uint8Array(await blobs.get(byRole.get('extension:sh.serval.birdfeeder')!.digest));
    const extInstance = await WebAssembly.instantiate(await WebAssembly.compile(extWasm), {});
    assert.equal(readModuleLayout(extWasm).memories[0]!.max, 4);
    const mainWasm = new Uint8Array(await blobs.get(byRole.get('main')!.digest));
    const imports = stubImports(mainWasm);
    imports['sh.serval.birdfeeder'] = { feed: extInstance.exports.feed as WebAssembly.ImportValue };
    const mainInstance = await WebAssembly.instantiate(await WebAssembly.compile(mainWasm), imports);
    (mainInstance.exports._start as () => void)();
    assert.equal((extInstance.exports.__warren_global_0 as WebAssembly.Global).value, 3);

    // Stored where the design says, listed, and a second call is a cache hit (same record).
    assert.deepEqual(await getArtifactMap(registry, eid, main.fq, main.version), map);
    assert.ok(await registry.get(artifactMapKey(eid, 'sh.serval.loudify', '1.2.0')));
    assert.equal((await listArtifactMaps(registry, eid)).length, 1);
    const again = await precompileVersion({ blobs, registry, record: main, extensions: [ext], engineId: eid, memoryMaxPages: 4 });
    assert.equal(again.createdAt, map.createdAt);

    // A lost blob or another memory limit rebuilds.
    await blobs.delete(byRole.get('exported:sh.serval.birdfeeder')!.digest);
    const rebuilt = await precompileVersion({ blobs, registry, record: main, extensions: [ext], engineId: eid, memoryMaxPages: 4 });
    assert.notEqual(rebuilt.createdAt, map.createdAt);
    assert.ok(await blobs.has(byRole.get('exported:sh.serval.birdfeeder')!.digest));
    const other = await precompileVersion({ blobs, registry, record: main, extensions: [ext], engineId: eid, memoryMaxPages: 8 });
    assert.equal(other.artifacts.find((a) => a.role === 'main')!.transform, 'memory-limit@1(max=8)');

    // Another engine id is another map.
    await precompileVersion({ blobs, registry, record: main, extensions: [ext], engineId: engineId('precompile-test-2'), memoryMaxPages: 4 });
    assert.equal((await listArtifactMaps(registry)).length, 2);
  } finally {
    await dispose();
  }
});

test('concurrent callers share one build', async () => {
  const { blobs, registry, dispose } = await openStore();
  try {
    const rec = await componentRecord(blobs, 'sh.serval.globals', '0.1.0', load('pre_globals.wasm'));
    const eid = engineId('precompile-concurrent');
    const maps = await Promise.all(Array.from({ length: 5 }, () => precompileVersion({ blobs, registry, record: rec, extensions: [], engineId: eid, memoryMaxPages: 2 })));
    assert.ok(maps.every((m) => m === maps[0]));
  } finally {
    await dispose();
  }
});

test('an unresolved extension or a mismatched extension module is refused', async () => {
  const { blobs, registry, dispose } = await openStore();
  try {
    const ext = await componentRecord(blobs, 'sh.serval.birdfeeder', '1.0.0', load('pre_extension.wasm'));
    const main = await componentRecord(blobs, 'sh.serval.loudify', '1.2.0', load('pre_ext_import.wasm'), [ext]);
    await assert.rejects(precompileVersion({ blobs, registry, record: main, extensions: [], engineId: 'e', memoryMaxPages: 4 }), { code: 'E_EXTENSION_MISSING' });
    const impostor = { ...ext, module: { digest: main.module.digest, size: 1 } };
    await assert.rejects(precompileVersion({ blobs, registry, record: main, extensions: [impostor], engineId: 'e', memoryMaxPages: 4 }), { code: 'E_INTEGRITY' });
  } finally {
    await dispose();
  }
});
