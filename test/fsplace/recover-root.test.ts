import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyUpdate, SimulatedCrash, UPDATE_STEPS, type UpdateStep } from '../../src/fsplace/apply-update.js';
import { placeFileTree } from '../../src/fsplace/place-file-tree.js';
import { planUpdate } from '../../src/fsplace/plan-update.js';
import { readRootTag, recoverRoot, writeRootTag } from '../../src/fsplace/recover-root.js';
import { makeFixture, rootState } from './fsplace-fixture.js';

const V1 = { version: 'v1', overlay: false };
const V2 = { version: 'v2', overlay: false };
const V2_OVERLAY = { version: 'v2', overlay: true };

/** Steps before the marker roll back to the old tree; from the marker on, forward to the new. */
const EXPECTED: Record<UpdateStep, 'old' | 'new'> = {
  carried: 'old',
  built: 'old',
  marked: 'new',
  'old-moved': 'new',
  swapped: 'new',
  'old-removed': 'new',
};

test('a crash after any step of applyUpdate recovers to exactly the old or the new tree', async () => {
  const fx = await makeFixture();
  try {
    const oldTree = await fx.tree({ '/app/a': { text: 'a1', mode: 'ro' }, '/app/gone': { text: 'g', mode: 'ro' }, '/db': { text: 'd', mode: 'rw' } });
    const newTree = await fx.tree({ '/app/a': { text: 'a2', mode: 'ro' }, '/app/new': { text: 'n', mode: 'ro' }, '/db': { text: 'd2', mode: 'rw' }, '/conf': { text: 'c', mode: 'rw' } });
    const plan = planUpdate(oldTree, newTree);
    const guest = (root: string): void => {
      mkdirSync(join(root, 'tmp'));
      writeFileSync(join(root, 'tmp/scratch'), 'scratch');
      writeFileSync(join(root, 'db'), 'worker-db');
    };

    // The two acceptable end states, from runs without a crash.
    const reference = join(fx.dir, 'reference', 'root');
    await placeFileTree({ blobs: fx.blobs, tree: oldTree, root: reference });
    guest(reference);
    const oldState = rootState(reference);
    await applyUpdate({ blobs: fx.blobs, root: reference, plan });
    const newState = rootState(reference);
    assert.notDeepEqual(oldState, newState);

    assert.deepEqual([...UPDATE_STEPS], Object.keys(EXPECTED));
    for (const step of UPDATE_STEPS) {
      const root = join(fx.dir, step, 'root');
      await placeFileTree({ blobs: fx.blobs, tree: oldTree, root });
      await writeRootTag(root, V1);
      guest(root);
      await assert.rejects(applyUpdate({ blobs: fx.blobs, root, plan, crashAfter: step, tag: V2 }), (err) => err instanceof SimulatedCrash && err.step === step);
      const outcome = await recoverRoot(root);
      assert.deepEqual(rootState(root), EXPECTED[step] === 'old' ? oldState : newState, `crash after ${step} (${outcome})`);
      assert.deepEqual(await readRootTag(root), EXPECTED[step] === 'old' ? V1 : V2, `crash after ${step}: the tag names the tree in place`);
      assert.deepEqual(readdirSync(join(fx.dir, step)).sort(), ['root', 'root.tag'], `crash after ${step}: nothing left beside the root`);
      assert.equal(await recoverRoot(root), 'clean', 'recovery is idempotent');
      // After a rolled-back crash the update can simply be run again.
      if (EXPECTED[step] === 'old') {
        await applyUpdate({ blobs: fx.blobs, root, plan, tag: V2 });
        assert.deepEqual(rootState(root), newState);
        assert.deepEqual(await readRootTag(root), V2);
      }
    }
  } finally {
    fx.dispose();
  }
});

test('a crash while the marker is written (its temporary file empty) rolls back: tree and tag stay old', async () => {
  const fx = await makeFixture();
  try {
    const oldTree = await fx.tree({ '/a': { text: 'a1', mode: 'ro' }, '/db': { text: 'd', mode: 'rw' } });
    const newTree = await fx.tree({ '/a': { text: 'a2', mode: 'ro' }, '/db': { text: 'd', mode: 'rw' } });
    const root = join(fx.dir, 'root');
    await placeFileTree({ blobs: fx.blobs, tree: oldTree, root });
    await writeRootTag(root, V1);
    await assert.rejects(applyUpdate({ blobs: fx.blobs, root, plan: planUpdate(oldTree, newTree), crashAfter: 'built', tag: V2 }));
    // What a SIGKILL between creating the marker's file and writing it leaves.
    writeFileSync(`${root}.next.complete.tmp`, '');
    assert.equal(await recoverRoot(root), 'rolled-back');
    assert.deepEqual(rootState(root), { '/a': 'a1', '/db': 'd' });
    assert.deepEqual(await readRootTag(root), V1, 'the tag names the tree in place');
    assert.deepEqual(readdirSync(fx.dir).filter((n) => n.startsWith('root')).sort(), ['root', 'root.tag']);
  } finally {
    fx.dispose();
  }
});

test('applyUpdate recovers a crashed earlier attempt before starting', async () => {
  const fx = await makeFixture();
  try {
    const oldTree = await fx.tree({ '/a': { text: 'a1', mode: 'ro' } });
    const newTree = await fx.tree({ '/a': { text: 'a2', mode: 'ro' } });
    const root = join(fx.dir, 'root');
    await placeFileTree({ blobs: fx.blobs, tree: oldTree, root });
    await assert.rejects(applyUpdate({ blobs: fx.blobs, root, plan: planUpdate(oldTree, newTree), crashAfter: 'built' }));
    assert.ok(existsSync(`${root}.next`));
    await applyUpdate({ blobs: fx.blobs, root, plan: planUpdate(oldTree, newTree) });
    assert.deepEqual(rootState(root), { '/a': 'a2' });
    assert.deepEqual(readdirSync(fx.dir).filter((n) => n.startsWith('root')), ['root']);
  } finally {
    fx.dispose();
  }
});

test('recoverRoot on a root that never saw an update is clean; a missing root is missing', async () => {
  const fx = await makeFixture();
  try {
    const root = join(fx.dir, 'root');
    assert.equal(await recoverRoot(root), 'missing');
    mkdirSync(root);
    writeFileSync(join(root, 'f'), 'x');
    assert.equal(await recoverRoot(root), 'clean');
    assert.deepEqual(rootState(root), { '/f': 'x' });
  } finally {
    fx.dispose();
  }
});

test('an update to an overlay upper layer places no read-only file, converts a whole-tree root, and commits the layout with the tag under a crash at any step', async () => {
  const fx = await makeFixture();
  try {
    const oldTree = await fx.tree({ '/app/a': { text: 'a1', mode: 'ro' }, '/app/gone': { text: 'g', mode: 'ro' }, '/cfg': { text: 'c1', mode: 'ro' }, '/db': { text: 'd', mode: 'rw' } });
    const newTree = await fx.tree({ '/app/a': { text: 'a2', mode: 'ro' }, '/app/new': { text: 'n', mode: 'ro' }, '/cfg': { text: 'c2', mode: 'rw' }, '/db': { text: 'd2', mode: 'rw' } });
    const plan = planUpdate(oldTree, newTree);
    // The worker's own files after the update: its db (rw→rw keeps the worker's), its scratch file,
    // the new private copy of /cfg (ro→rw); none of the read-only files (the new version's shared tree).
    const wanted = { '/app': 'dir', '/app/mine': 'mine', '/cfg': 'c2', '/db': 'worker-db' };
    for (const layout of ['whole', 'overlay'] as const) {
      for (const step of [...UPDATE_STEPS, null]) {
        const root = join(fx.dir, `${layout}-${step ?? 'no-crash'}`, 'root');
        // A whole-tree root (placed before overlays) holds its read-only files; an upper layer only the rest.
        await placeFileTree({ blobs: fx.blobs, tree: layout === 'whole' ? oldTree : { version: 1, entries: oldTree.entries.filter((e) => e.mode === 'rw') }, root });
        await writeRootTag(root, { version: 'v1', overlay: layout === 'overlay' });
        mkdirSync(join(root, 'app'), { recursive: true });
        writeFileSync(join(root, 'app/mine'), 'mine');
        writeFileSync(join(root, 'db'), 'worker-db');
        const before = rootState(root);
        if (step === null) await applyUpdate({ blobs: fx.blobs, root, plan, tag: V2_OVERLAY });
        else await assert.rejects(applyUpdate({ blobs: fx.blobs, root, plan, crashAfter: step, tag: V2_OVERLAY }), SimulatedCrash);
        await recoverRoot(root);
        const isNew = step === null || EXPECTED[step] === 'new';
        assert.deepEqual(rootState(root), isNew ? wanted : before, `${layout}, crash after ${step}`);
        assert.deepEqual(await readRootTag(root), isNew ? V2_OVERLAY : { version: 'v1', overlay: layout === 'overlay' }, `${layout}, crash after ${step}: the tag names the layers in place`);
      }
    }
  } finally {
    fx.dispose();
  }
});

test('an update to an overlay refuses a guest file where the new version has a read-only one, and changes nothing', async () => {
  const fx = await makeFixture();
  try {
    const oldTree = await fx.tree({ '/db': { text: 'd', mode: 'rw' } });
    const newTree = await fx.tree({ '/db': { text: 'd', mode: 'rw' }, '/notes/readme': { text: 'r', mode: 'ro' } });
    const root = join(fx.dir, 'root');
    await placeFileTree({ blobs: fx.blobs, tree: oldTree, root });
    await writeRootTag(root, { version: 'v1', overlay: true });
    mkdirSync(join(root, 'notes'));
    writeFileSync(join(root, 'notes/readme'), 'the guest wrote this');
    const before = rootState(root);
    await assert.rejects(applyUpdate({ blobs: fx.blobs, root, plan: planUpdate(oldTree, newTree), tag: V2_OVERLAY }), { code: 'E_UPDATE_CONFLICT' });
    assert.deepEqual(rootState(root), before);
    assert.deepEqual(await readRootTag(root), { version: 'v1', overlay: true });
  } finally {
    fx.dispose();
  }
});

