import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyUpdate, SimulatedCrash, UPDATE_STEPS, type UpdateStep } from '../../src/fsplace/apply-update.js';
import { placeFileTree } from '../../src/fsplace/place-file-tree.js';
import { planUpdate } from '../../src/fsplace/plan-update.js';
import { readRootTag, recoverRoot, writeRootTag } from '../../src/fsplace/recover-root.js';
import { makeFixture, rootState } from './fsplace-fixture.js';

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
      await writeRootTag(root, 'v1');
      guest(root);
      await assert.rejects(applyUpdate({ blobs: fx.blobs, root, plan, crashAfter: step, tag: 'v2' }), (err) => err instanceof SimulatedCrash && err.step === step);
      const outcome = await recoverRoot(root);
      assert.deepEqual(rootState(root), EXPECTED[step] === 'old' ? oldState : newState, `crash after ${step} (${outcome})`);
      assert.equal(await readRootTag(root), EXPECTED[step] === 'old' ? 'v1' : 'v2', `crash after ${step}: the tag names the tree in place`);
      assert.deepEqual(readdirSync(join(fx.dir, step)).sort(), ['root', 'root.tag'], `crash after ${step}: nothing left beside the root`);
      assert.equal(await recoverRoot(root), 'clean', 'recovery is idempotent');
      // After a rolled-back crash the update can simply be run again.
      if (EXPECTED[step] === 'old') {
        await applyUpdate({ blobs: fx.blobs, root, plan, tag: 'v2' });
        assert.deepEqual(rootState(root), newState);
        assert.equal(await readRootTag(root), 'v2');
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
    await writeRootTag(root, 'v1');
    await assert.rejects(applyUpdate({ blobs: fx.blobs, root, plan: planUpdate(oldTree, newTree), crashAfter: 'built', tag: 'v2' }));
    // What a SIGKILL between creating the marker's file and writing it leaves.
    writeFileSync(`${root}.next.complete.tmp`, '');
    assert.equal(await recoverRoot(root), 'rolled-back');
    assert.deepEqual(rootState(root), { '/a': 'a1', '/db': 'd' });
    assert.equal(await readRootTag(root), 'v1', 'the tag names the tree in place');
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
