import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { collectGarbage } from '../../src/services/gc/collect-garbage.js';
import { verifyStore } from '../../src/services/gc/verify-store.js';
import { locatePages } from '../../src/services/snapshots/read-page-map.js';
import { MAX_PACKS, PackWriter, usableBase, writePageMap } from '../../src/services/snapshots/write-page-map.js';
import { PAGE_SIZE, restorePacks, scanPages, type MemoryShadow } from '../../src/runtime/memory-pages.js';
import { REGISTRY_PREFIX, type PageMap, type SnapshotRecord, type WorkerRecord } from '../../src/records.js';
import { openStore } from '../gc/gc-fixtures.js';

/** A memory of `pages` pages; page i holds the byte `fill(i)` (0 = a zero page). */
function memoryOf(pages: number, fill: (i: number) => number): WebAssembly.Memory {
  const memory = new WebAssembly.Memory({ initial: pages, maximum: 1024 });
  const m = new Uint8Array(memory.buffer);
  for (let i = 0; i < pages; i++) m.fill(fill(i), i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
  return memory;
}

const bytesOf = (memory: WebAssembly.Memory) => new Uint8Array(memory.buffer).slice();

/** A snapshot as take-snapshot makes one: the guest thread's scan streaming its pack into the store, then the map. */
async function snapshot(blobs: Awaited<ReturnType<typeof openStore>>['blobs'], mem: WebAssembly.Memory, base: PageMap | null) {
  const diffBase = usableBase(base) ? base : null;
  const writer = new PackWriter(blobs, false);
  const scan = scanPages(mem, diffBase?.digests ?? null, writer.push);
  const pack = await writer.finish();
  const map = await writePageMap({ target: blobs, scan, base: diffBase, pack });
  await pack?.stored;
  return map;
}

async function restored(store: Awaited<ReturnType<typeof openStore>>, digest: string): Promise<Uint8Array> {
  const placed = await locatePages(store.blobs, store.blobs, digest);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1024 });
  restorePacks(memory, placed.pageMap.pages, placed);
  return new Uint8Array(memory.buffer);
}

test('a first snapshot is one pack of its distinct non-zero pages, read back whole', async () => {
  const store = await openStore();
  try {
    // 16 pages: zeros at 0 and 5, pages 8-11 identical.
    const mem = memoryOf(16, (i) => (i === 0 || i === 5 ? 0 : i >= 8 && i < 12 ? 99 : i + 1));
    const w = await snapshot(store.blobs, mem, null);
    assert.equal(w.pageMap.packs!.length, 1, 'one pack');
    assert.equal(w.pagesWritten, 11, '14 non-zero pages, 4 of them identical: 11 distinct');
    assert.equal(w.bytesWritten, 11 * PAGE_SIZE);
    assert.deepEqual(await restored(store, w.digest), bytesOf(mem));
  } finally {
    await store.dispose();
  }
});

test('a second snapshot writes only changed pages into a new pack and points into the first for the rest', async () => {
  const store = await openStore();
  try {
    const mem = memoryOf(64, (i) => (i % 7) + 1);
    const first = await snapshot(store.blobs, mem, null);
    assert.equal(first.pagesWritten, 7, 'seven distinct pages');
    const m = new Uint8Array(mem.buffer);
    m.fill(200, 3 * PAGE_SIZE, 4 * PAGE_SIZE);
    m.fill(0, 10 * PAGE_SIZE, 11 * PAGE_SIZE);
    m.copyWithin(20 * PAGE_SIZE, 1 * PAGE_SIZE, 2 * PAGE_SIZE); // a page the base has, at another index
    const second = await snapshot(store.blobs, mem, first.pageMap);
    assert.equal(second.pagesWritten, 1, 'only the new bytes of page 3');
    assert.equal(second.pageMap.packs!.length, 2);
    assert.equal(second.pageMap.packs![0], first.pageMap.packs![0]);
    assert.deepEqual(await restored(store, second.digest), bytesOf(mem));
    assert.deepEqual(await restored(store, first.digest), bytesOf(memoryOf(64, (i) => (i % 7) + 1)), 'the first snapshot still restores as it was');
  } finally {
    await store.dispose();
  }
});

test(`a chain past ${MAX_PACKS} packs is compacted into one; every snapshot of the chain still restores`, async () => {
  const store = await openStore();
  try {
    const mem = memoryOf(32, (i) => i + 1);
    const states: [string, Uint8Array][] = [];
    let w = await snapshot(store.blobs, mem, null);
    states.push([w.digest, bytesOf(mem)]);
    let compacted = 0;
    for (let round = 0; round < 3 * MAX_PACKS; round++) {
      new Uint8Array(mem.buffer).fill(100 + round, (round % 32) * PAGE_SIZE, ((round % 32) + 1) * PAGE_SIZE);
      w = await snapshot(store.blobs, mem, w.pageMap);
      assert.ok(w.pageMap.packs!.length <= MAX_PACKS, `round ${round}: ${w.pageMap.packs!.length} packs`);
      if (w.pageMap.packs!.length === 1) compacted++;
      states.push([w.digest, bytesOf(mem)]);
    }
    assert.ok(compacted >= 2, `compacted ${compacted} times`);
    for (const [digest, expected] of states) assert.deepEqual(await restored(store, digest), expected);
  } finally {
    await store.dispose();
  }
});

test('GC keeps packs while a snapshot uses them and collects them after; verify checks every page of a pack', async () => {
  const store = await openStore();
  try {
    const { blobs, registry } = store;
    const mem = memoryOf(8, (i) => i + 1);
    const first = await snapshot(blobs, mem, null);
    new Uint8Array(mem.buffer).fill(77, 0, PAGE_SIZE);
    const second = await snapshot(blobs, mem, first.pageMap);
    const worker: WorkerRecord = {
      id: 'w_p', name: 'p', namespace: 'sh.p', component: 'sh.p.c', version: '1.0.0', node: 'n', status: 'idle', env: {}, args: [],
      createdAt: new Date(0).toISOString(), updatedAt: new Date(0).toISOString(), lastSnapshot: 'w_p.s2', lastCommit: 'w_p.s2',
    };
    const snap = (id: string, memory: string): SnapshotRecord => ({
      id, worker: 'w_p', component: 'sh.p.c', version: '1.0.0', scope: 'full', kind: 'commit', node: 'n', createdAt: new Date(0).toISOString(), memory, state: null, files: null,
    });
    await registry.put(`${REGISTRY_PREFIX.worker}w_p`, worker);
    await registry.put(`${REGISTRY_PREFIX.snapshot}w_p.s2`, snap('w_p.s2', second.digest));
    const gc = await collectGarbage({ blobs, registry, engineId: null as unknown as string, graceMs: 0 });
    for (const pack of second.pageMap.packs!) assert.ok(await blobs.has(pack), 'a pack the kept snapshot points into stays');
    assert.ok(gc.swept.some((s) => s.integrity === first.digest), 'the first map, which no record names, is collected');
    const clean = await verifyStore({ blobs, registry });
    assert.deepEqual([clean.missing, clean.corrupt, clean.badPages], [[], [], []]);
    assert.ok(clean.pagesChecked >= 8);

    // A pack whose bytes no longer match the map is reported page by page.
    const packPath = await blobs.path(second.pageMap.packs![0]!);
    const bytes = Buffer.from(bytesOf(memoryOf(8, (i) => i + 1)));
    bytes[2 * PAGE_SIZE] = 0xff;
    writeFileSync(packPath!, bytes);
    const bad = await verifyStore({ blobs, registry });
    assert.ok(bad.badPages.some((b) => b.page === 2), JSON.stringify(bad.badPages));

    await registry.delete(`${REGISTRY_PREFIX.snapshot}w_p.s2`);
    await registry.put(`${REGISTRY_PREFIX.worker}w_p`, { ...worker, status: 'deleted', lastSnapshot: null, lastCommit: null });
    await collectGarbage({ blobs, registry, engineId: null as unknown as string, graceMs: 0 });
    for (const pack of second.pageMap.packs!) assert.equal(await blobs.has(pack), false, 'no snapshot uses it: collected');
  } finally {
    await store.dispose();
  }
});

test('a scan against its shadow gives the digests and changed pages a full scan gives, and keeps the shadow equal to memory', () => {
  const mem = memoryOf(16, (i) => (i % 3 === 0 ? 0 : i));
  const shadow: { current: MemoryShadow | null; baseTag: string | null; nextTag: string } = { current: null, baseTag: null, nextTag: 's1' };
  const first = scanPages(mem, null, () => undefined, shadow);
  shadow.current = first.nextShadow();
  let base = first.digests;
  const m = new Uint8Array(mem.buffer);
  for (let round = 2; round < 6; round++) {
    m.fill(round * 10, round * PAGE_SIZE, (round + 1) * PAGE_SIZE); // a page changes
    m.fill(0, (round + 5) * PAGE_SIZE, (round + 6) * PAGE_SIZE); // a page becomes zero
    shadow.baseTag = shadow.current!.tag;
    shadow.nextTag = `s${round}`;
    const withShadow = scanPages(mem, base, () => undefined, shadow);
    const full = scanPages(mem, base, () => undefined);
    assert.deepEqual([withShadow.digests, withShadow.changed, withShadow.slots], [full.digests, full.changed, full.slots], `round ${round}`);
    shadow.current = withShadow.nextShadow();
    assert.deepEqual(shadow.current.bytes, new Uint8Array(mem.buffer), 'the shadow was brought up to memory');
    assert.equal(shadow.current.tag, `s${round}`);
    base = withShadow.digests;
  }
});

test('a shadow is not made of memory that grew after its scan', () => {
  const mem = memoryOf(4, (i) => i + 1);
  const scan = scanPages(mem, null, () => undefined, { current: null, baseTag: null, nextTag: 's1' });
  mem.grow(1);
  assert.throws(() => scan.nextShadow(), /grew after its scan/);
});
