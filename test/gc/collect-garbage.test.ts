import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectGarbage } from '../../src/services/gc/collect-garbage.js';
import { precompileVersion } from '../../src/precompile/precompile-version.js';
import { artifactMapKey } from '../../src/precompile/artifact-map.js';
import { engineId } from '../../src/precompile/engine-id.js';
import { REGISTRY_PREFIX, type PageMap, type SnapshotRecord, type WorkerRecord } from '../../src/records.js';
import { distinctModule, openStore, putComponent, putFileTree } from './gc-fixtures.js';

/** mulberry32: a seeded PRNG, so a failing sequence can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Model {
  components: Map<string, { fq: string; version: string; blobs: Set<string> }>;
  maps: Map<string, { engine: string; component: string; blobs: Set<string> }>;
  workers: Map<string, { live: boolean; lastSnapshot: string | null; lastCommit: string | null }>;
  snapshots: Map<string, { worker: string; kind: 'pause' | 'commit'; blobs: Set<string> }>;
}

function expectedReachable(m: Model, engine: string): Set<string> {
  const out = new Set<string>();
  const add = (s: Set<string>) => s.forEach((b) => out.add(b));
  for (const c of m.components.values()) add(c.blobs);
  for (const [, map] of m.maps) if (map.engine === engine && m.components.has(map.component)) add(map.blobs);
  for (const s of m.snapshots.values()) if (s.kind === 'commit' || m.workers.get(s.worker)?.live) add(s.blobs);
  return out;
}

const FILE_POOL = ['shared-a', 'shared-b', 'shared-c', 'shared-d'];
const PAGE_POOL = ['page-zero-ish', 'page-heap', 'page-stack'];

async function runSequence(seed: number, steps: number): Promise<{ gcs: number; swept: number }> {
  const rand = prng(seed);
  const pick = <T>(xs: T[]): T | undefined => (xs.length ? xs[Math.floor(rand() * xs.length)] : undefined);
  const { blobs, registry, dispose } = await openStore();
  const model: Model = { components: new Map(), maps: new Map(), workers: new Map(), snapshots: new Map() };
  let salt = `gc-prop-${seed}-0`;
  let n = 0;
  let gcs = 0;
  let sweptTotal = 0;
  try {
    for (let step = 0; step < steps; step++) {
      const r = rand();
      n++;
      if (r < 0.2 || model.components.size === 0) {
        const fq = `sh.test.c${Math.floor(rand() * 3)}`;
        const version = `1.0.${n}`;
        const files = Array.from({ length: Math.floor(rand() * 3) }, (_, i) => ({
          path: `/f${i}`,
          content: rand() < 0.6 ? pick(FILE_POOL)! : `unique-${seed}-${n}-${i}`,
        }));
        const { record, written } = await putComponent(blobs, fq, version, distinctModule('pre_globals.wasm', `${seed}-${n}-${Math.floor(rand() * 2)}`), { files });
        const key = `${REGISTRY_PREFIX.component}${fq}/${version}`;
        await registry.put(key, record);
        model.components.set(key, { fq, version, blobs: new Set(written) });
      } else if (r < 0.3) {
        const key = pick([...model.components.keys()])!;
        const c = model.components.get(key)!;
        const record = (await registry.get(key))!.value as Parameters<typeof precompileVersion>[0]['record'];
        const eid = engineId(salt);
        const map = await precompileVersion({ blobs, registry, record, extensions: [], engineId: eid, memoryMaxPages: 2 + Math.floor(rand() * 2) });
        model.maps.set(artifactMapKey(eid, c.fq, c.version), { engine: eid, component: key, blobs: new Set(map.artifacts.map((a) => a.digest)) });
      } else if (r < 0.42) {
        const component = pick([...model.components.values()])!;
        const id = `w_${seed}_${n}`;
        const now = new Date().toISOString();
        const w: WorkerRecord = {
          id, name: id, namespace: 'sh.test', component: component.fq, version: component.version, node: 'n1', status: 'idle',
          env: {}, args: [], createdAt: now, updatedAt: now, lastSnapshot: null, lastCommit: null,
        };
        await registry.put(`${REGISTRY_PREFIX.worker}${id}`, w);
        model.workers.set(id, { live: true, lastSnapshot: null, lastCommit: null });
      } else if (r < 0.62) {
        const workerId = pick([...model.workers].filter(([, w]) => w.live).map(([id]) => id));
        if (!workerId) continue;
        const kind = rand() < 0.5 ? 'commit' : 'pause';
        const written = new Set<string>();
        const digests: Record<string, string> = {};
        for (let p = 0; p < 1 + Math.floor(rand() * 4); p++) {
          const info = await blobs.put(rand() < 0.5 ? pick(PAGE_POOL)! : `page-${seed}-${n}-${p}`);
          digests[String(p * 3)] = info.integrity;
          written.add(info.integrity);
        }
        const pageMap: PageMap = { pageSize: 65536, pages: 12, digests };
        const memory = (await blobs.put(JSON.stringify(pageMap))).integrity;
        const state = (await blobs.put(JSON.stringify({ globals: { g: n }, wasi: {} }))).integrity;
        const files = await putFileTree(blobs, [{ path: '/data/log', content: rand() < 0.5 ? pick(FILE_POOL)! : `log-${seed}-${n}` }]);
        [memory, state, ...files.written].forEach((b) => written.add(b));
        const id = `s_${seed}_${n}`;
        const w = (await registry.get<WorkerRecord>(`${REGISTRY_PREFIX.worker}${workerId}`))!.value;
        const snap: SnapshotRecord = {
          id, worker: workerId, component: w.component, version: w.version, scope: 'full', kind, node: 'n1',
          createdAt: new Date().toISOString(), memory, state, files: files.tree,
        };
        await registry.put(`${REGISTRY_PREFIX.snapshot}${id}`, snap);
        const lastCommit = kind === 'commit' ? id : w.lastCommit;
        await registry.put(`${REGISTRY_PREFIX.worker}${workerId}`, { ...w, lastSnapshot: id, lastCommit, status: 'paused' });
        model.snapshots.set(id, { worker: workerId, kind, blobs: written });
        model.workers.set(workerId, { live: true, lastSnapshot: id, lastCommit });
      } else if (r < 0.72) {
        const workerId = pick([...model.workers].filter(([, w]) => w.live).map(([id]) => id));
        if (!workerId) continue;
        const key = `${REGISTRY_PREFIX.worker}${workerId}`;
        // Both ends of the delete path: a tombstone (status deleted), and the record gone.
        if (rand() < 0.5) await registry.put(key, { ...(await registry.get<WorkerRecord>(key))!.value, status: 'deleted' });
        else await registry.delete(key);
        model.workers.get(workerId)!.live = false;
      } else if (r < 0.8) {
        const key = pick([...model.components.keys()])!;
        await registry.delete(key);
        model.components.delete(key);
      } else if (r < 0.85) {
        salt = `gc-prop-${seed}-${n}`;
      } else {
        const eid = engineId(salt);
        const res = await collectGarbage({ blobs, registry, engineId: eid, graceMs: 0, now: Date.now() + 1000 });
        gcs++;
        sweptTotal += res.swept.length;
        const context = `seed ${seed}, step ${step}`;
        assert.deepEqual(res.missing, [], context);
        const expected = expectedReachable(model, eid);
        for (const integrity of expected) assert.ok((await blobs.get(integrity)).length >= 0, `${context}: reachable blob ${integrity} is readable`);
        const present = new Set<string>();
        for await (const b of blobs.list()) present.add(b.integrity);
        for (const integrity of expected) assert.ok(present.has(integrity), `${context}: reachable ${integrity} kept`);
        for (const integrity of present) assert.ok(expected.has(integrity), `${context}: unreachable ${integrity} swept`);
        assert.equal(res.kept, present.size);
        // The model loses what GC removed: dead maps and the pauses of gone workers.
        for (const [key, map] of model.maps) if (map.engine !== eid || !model.components.has(map.component)) model.maps.delete(key);
        for (const [id, s] of model.snapshots) if (s.kind === 'pause' && !model.workers.get(s.worker)?.live) model.snapshots.delete(id);
        const maps = (await registry.list(REGISTRY_PREFIX.precompile)).map((e) => e.key).sort();
        assert.deepEqual(maps, [...model.maps.keys()].sort(), `${context}: artifact map records`);
        const snaps = (await registry.list(REGISTRY_PREFIX.snapshot)).map((e) => e.key).sort();
        assert.deepEqual(snaps, [...model.snapshots.keys()].map((id) => `${REGISTRY_PREFIX.snapshot}${id}`).sort(), `${context}: snapshot records`);
      }
    }
    return { gcs, swept: sweptTotal };
  } finally {
    await dispose();
  }
}

test('property: after any sequence of pushes, workers, snapshots, deletes and engine changes, GC keeps exactly what roots reach', async () => {
  let gcs = 0;
  let swept = 0;
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const r = await runSequence(seed, 70);
    gcs += r.gcs;
    swept += r.swept;
  }
  assert.ok(gcs >= 20, `the sequences ran GC (${gcs} times)`);
  assert.ok(swept > 0, 'and it had garbage to collect');
});

test('grace period: a fresh unreachable blob survives; an old one goes; a dry run deletes nothing', async () => {
  const { blobs, registry, dispose } = await openStore();
  try {
    const orphan = await blobs.put('orphan bytes');
    const fresh = await collectGarbage({ blobs, registry, engineId: 'e', graceMs: 10 * 60 * 1000 });
    assert.deepEqual(fresh.swept, []);
    assert.equal(fresh.kept, 1);
    assert.ok(await blobs.has(orphan.integrity));
    const later = Date.now() + 11 * 60 * 1000;
    const dry = await collectGarbage({ blobs, registry, engineId: 'e', dryRun: true, now: later });
    assert.deepEqual(dry.swept, [{ integrity: orphan.integrity, size: orphan.size }]);
    assert.equal(dry.dryRun, true);
    assert.ok(await blobs.has(orphan.integrity));
    const real = await collectGarbage({ blobs, registry, engineId: 'e', now: later });
    assert.equal(real.sweptBytes, orphan.size);
    assert.equal(await blobs.has(orphan.integrity), false);
  } finally {
    await dispose();
  }
});

test('a record pointing at a missing blob is reported, not crashed on', async () => {
  const { blobs, registry, dispose } = await openStore();
  try {
    const { record } = await putComponent(blobs, 'sh.test.broken', '1.0.0', distinctModule('pre_globals.wasm', 'x'), { files: [{ path: '/a', content: 'a' }] });
    await registry.put(`${REGISTRY_PREFIX.component}sh.test.broken/1.0.0`, record);
    await blobs.delete(record.module.digest);
    await blobs.delete(record.fileTree!);
    const res = await collectGarbage({ blobs, registry, engineId: 'e', graceMs: 0, now: Date.now() + 1000 });
    assert.deepEqual(res.missing.sort(), [
      `component/sh.test.broken/1.0.0: ${record.fileTree}`,
      `component/sh.test.broken/1.0.0: ${record.module.digest}`,
    ].sort());
    // The tree is unreadable, so the file it named is unreachable and goes: a lost tree loses its files.
    assert.equal(res.swept.length, 1);
    assert.ok(await blobs.has(record.manifestDigest));
  } finally {
    await dispose();
  }
});

test('runwasi case: an extension shared by 50 components stays until its last user and itself are gone', async () => {
  const { blobs, registry, dispose } = await openStore();
  try {
    const eid = engineId('gc-runwasi');
    const ext = await putComponent(blobs, 'sh.serval.birdfeeder', '1.0.0', distinctModule('pre_extension.wasm', 'ext'));
    const extKey = `${REGISTRY_PREFIX.component}sh.serval.birdfeeder/1.0.0`;
    await registry.put(extKey, ext.record);
    const own = new Map<string, string[]>();
    let extArtifacts: string[] = [];
    for (let i = 0; i < 50; i++) {
      const fq = `sh.serval.user${i}`;
      const { record } = await putComponent(blobs, fq, '1.0.0', distinctModule('pre_ext_import.wasm', `user-${i}`), { extensions: [ext.record] });
      await registry.put(`${REGISTRY_PREFIX.component}${fq}/1.0.0`, record);
      const map = await precompileVersion({ blobs, registry, record, extensions: [ext.record], engineId: eid, memoryMaxPages: 4 });
      const mine = map.artifacts.filter((a) => !a.role.endsWith(':sh.serval.birdfeeder'));
      own.set(fq, [record.module.digest, ...mine.map((a) => a.digest)]);
      const shared = map.artifacts.filter((a) => a.role.endsWith(':sh.serval.birdfeeder')).map((a) => a.digest).sort();
      if (i > 0) assert.deepEqual(shared, extArtifacts, 'every map names the same extension artifacts');
      extArtifacts = shared;
    }
    assert.equal(extArtifacts.length, 3);
    const gc = () => collectGarbage({ blobs, registry, engineId: eid, graceMs: 0, now: Date.now() + 1000 });
    assert.deepEqual((await gc()).swept, [], 'nothing to collect while all are in use');

    for (let i = 1; i < 50; i++) await registry.delete(`${REGISTRY_PREFIX.component}sh.serval.user${i}/1.0.0`);
    const res = await gc();
    assert.equal(res.sweptRecords.length, 49);
    // Equal bytes are one blob: the analysis JSON of these modules is the same for all 50, and user0 keeps it.
    const keptByUser0 = new Set(own.get('sh.serval.user0'));
    for (let i = 1; i < 50; i++) {
      const mine = own.get(`sh.serval.user${i}`)!.filter((d) => !keptByUser0.has(d));
      assert.equal(mine.length, 3, 'module, exported, main are its own');
      for (const d of mine) assert.equal(await blobs.has(d), false);
    }
    for (const d of [...extArtifacts, ext.record.module.digest, ...own.get('sh.serval.user0')!]) assert.ok(await blobs.has(d));

    await registry.delete(`${REGISTRY_PREFIX.component}sh.serval.user0/1.0.0`);
    const stillExt = await gc();
    assert.ok(await blobs.has(ext.record.module.digest), 'the extension component itself is still a root');
    assert.ok(stillExt.swept.length > 0);
    for (const d of extArtifacts) assert.equal(await blobs.has(d), false, 'its precompiled images died with their last map');
    await registry.delete(extKey);
    await gc();
    const left: string[] = [];
    for await (const b of blobs.list()) left.push(b.integrity);
    assert.deepEqual(left, []);
    assert.deepEqual(await registry.list(REGISTRY_PREFIX.precompile), []);
  } finally {
    await dispose();
  }
});
