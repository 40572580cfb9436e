import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isWarrenError } from '../../src/errors.js';
import { placeFileTree } from '../../src/fsplace/place-file-tree.js';
import { removeWorkerDir } from '../../src/fsplace/remove-worker-dir.js';
import { makeFixture } from './fsplace-fixture.js';

test('removeWorkerDir removes symlinks, not what they point at, and leaves the store intact', async () => {
  const fx = await makeFixture();
  try {
    const tree = await fx.tree({ '/lib': { text: 'lib', mode: 'ro' } });
    const outside = join(fx.dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'precious'), 'keep me');
    const dir = join(fx.dir, 'workers', 'w1');
    await placeFileTree({ blobs: fx.blobs, tree, root: join(dir, 'root') });
    symlinkSync(outside, join(dir, 'root', 'dirlink'));
    symlinkSync(join(outside, 'precious'), join(dir, 'root', 'filelink'));
    await removeWorkerDir(dir);
    assert.equal(existsSync(dir), false);
    assert.equal(readFileSync(join(outside, 'precious'), 'utf8'), 'keep me');
    assert.equal((await fx.blobs.get(tree.entries[0]!.digest)).toString(), 'lib');

    // The worker dir itself being a symlink removes only the link.
    symlinkSync(outside, join(fx.dir, 'workers', 'w2'));
    await removeWorkerDir(join(fx.dir, 'workers', 'w2'));
    assert.equal(readFileSync(join(outside, 'precious'), 'utf8'), 'keep me');
    await assert.rejects(removeWorkerDir('/'), (err) => isWarrenError(err, 'E_PATH_INVALID'));
    await assert.rejects(removeWorkerDir('relative/dir'), (err) => isWarrenError(err, 'E_PATH_INVALID'));
  } finally {
    fx.dispose();
  }
});
