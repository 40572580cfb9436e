import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiskBlobs } from '../../src/ports/embedded/disk-blobs.js';
import { SqliteRegistry } from '../../src/ports/embedded/sqlite-registry.js';
import { artifactMapKey } from '../../src/precompile/artifact-map.js';
import { engineId } from '../../src/precompile/engine-id.js';
import { CORE_ROLE_PREFIX, GLUE_ROLE } from '../../src/precompile/precompile-component.js';
import { precompileVersion } from '../../src/precompile/precompile-version.js';
import { readComponentWorld, transpilerVersion } from '../../src/precompile/read-component-world.js';
import { readModuleLayout } from '../../src/precompile/read-module-layout.js';
import { transpileLabel } from '../../src/precompile/transpile-component.js';
import { collectGarbage } from '../../src/services/gc/collect-garbage.js';
import { REGISTRY_PREFIX, type ComponentVersionRecord } from '../../src/records.js';
import { fixturePath, makeTempDir } from '../support/temp-dir.js';

/** A version record as push writes it for a component (world included), over bytes stored in `blobs`. */
async function componentRecord(blobs: DiskBlobs, fq: string, version: string, wasm: Uint8Array): Promise<ComponentVersionRecord> {
  const module = await blobs.put(wasm);
  const manifest = { name: fq.split('.').pop()!, namespace: fq.split('.').slice(0, -1).join('.'), version };
  const manifestBlob = await blobs.put(JSON.stringify(manifest));
  return {
    fq, namespace: manifest.namespace, name: manifest.name, version, manifest,
    manifestDigest: manifestBlob.integrity,
    module: { digest: module.integrity, size: module.size },
    extensions: [], fileTree: null, filesSize: 0, contentDigest: module.integrity, createdAt: new Date().toISOString(),
    world: await readComponentWorld(wasm),
  };
}

test('a component precompiles to N core modules + glue, each an artifact whose parent is the component; cached; collected with its version', async () => {
  const dir = makeTempDir();
  const blobs = new DiskBlobs(join(dir.path, 'store'));
  const registry = new SqliteRegistry(join(dir.path, 'registry.db'));
  try {
    const bytes = new Uint8Array(readFileSync(fixturePath('wasi_probe.component.wasm')));
    const record = await componentRecord(blobs, 'comp.probe', '1.0.0', bytes);
    const key = `${REGISTRY_PREFIX.component}comp.probe/1.0.0`;
    await registry.put(key, record);
    const eid = engineId('component-artifacts');
    assert.notEqual(transpilerVersion(), 'absent');
    assert.match(transpileLabel(), new RegExp(`jco=${transpilerVersion().replace(/\./g, '\\.')}`));

    const map = await precompileVersion({ blobs, registry, record, extensions: [], engineId: eid, memoryMaxPages: 256 });
    const cores = map.artifacts.filter((a) => a.role.startsWith(CORE_ROLE_PREFIX));
    assert.ok(cores.length >= 2, `the adapter component splits into several core modules, got ${cores.length}`);
    assert.equal(map.artifacts.filter((a) => a.role === GLUE_ROLE).length, 1);
    for (const a of map.artifacts) {
      assert.deepEqual(a.parents, [record.module.digest], `${a.role}: 1:N, the component is the parent`);
      assert.equal(a.transform, `${transpileLabel()}(max=256)`);
      assert.ok(await blobs.has(a.digest));
    }
    // The memory limit is written into every core module that defines or imports a memory.
    for (const a of cores) {
      const layout = readModuleLayout(await blobs.get(a.digest));
      for (const m of [...layout.memories, ...layout.imports.flatMap((i) => (i.limits ? [i.limits] : []))]) assert.ok(m.max !== null && m.max <= 256, a.role);
      // And every mutable global it defines is exported: a full snapshot reads and writes them.
      for (const g of layout.globals.filter((x) => x.mutable)) assert.ok(layout.exports.some((e) => e.kind === 'global' && e.index === g.index), `${a.role}: global ${g.index}`);
    }
    const glue = Buffer.from(await blobs.get(map.artifacts.find((a) => a.role === GLUE_ROLE)!.digest)).toString('utf8');
    assert.match(glue, /return \{ instantiate, tablesTracked: true, watchTables: .*\};\s*$/, 'the glue shows Warren every resource table');

    // Cached: the same map (no new transpile) while the label and blobs hold.
    const again = await precompileVersion({ blobs, registry, record, extensions: [], engineId: eid, memoryMaxPages: 256 });
    assert.equal(again.createdAt, map.createdAt);
    assert.deepEqual((await registry.get(artifactMapKey(eid, 'comp.probe', '1.0.0')))?.value, map);

    // Collected by roots like every artifact: kept while the version exists, gone with it.
    const gc = () => collectGarbage({ blobs, registry, engineId: eid, graceMs: 0, now: Date.now() + 1000 });
    await gc();
    for (const a of map.artifacts) assert.ok(await blobs.has(a.digest), `${a.role} kept while its version exists`);
    await registry.delete(key);
    await gc();
    for (const a of map.artifacts) assert.equal(await blobs.has(a.digest), false, `${a.role} collected with its version`);
  } finally {
    await registry.close();
    dir.dispose();
  }
});
