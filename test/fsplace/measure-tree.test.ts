import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { measureTree } from '../../src/fsplace/measure-tree.js';
import { readOnlyIdentities } from '../../src/fsplace/file-identity.js';
import { placeFileTree } from '../../src/fsplace/place-file-tree.js';
import { makeFixture } from './fsplace-fixture.js';

test('measureTree counts writable files once each and never read-only ones', async () => {
  const fx = await makeFixture();
  try {
    const tree = await fx.tree({ '/big.ro': { text: 'r'.repeat(5000), mode: 'ro' }, '/state': { text: '12345', mode: 'rw' } });
    const root = join(fx.dir, 'root');
    const { readOnlyPaths } = await placeFileTree({ blobs: fx.blobs, tree, root });
    const readOnly = await readOnlyIdentities(root, readOnlyPaths);
    assert.equal(readOnly.size, 1);
    assert.deepEqual(await measureTree(root, readOnly), { files: 1, bytes: 5 });
    mkdirSync(join(root, 'out'));
    writeFileSync(join(root, 'out/a'), 'x'.repeat(1000));
    linkSync(join(root, 'out/a'), join(root, 'out/a2')); // same inode: counted once
    linkSync(join(root, 'big.ro'), join(root, 'alias.ro')); // read-only inode under another name
    symlinkSync('/etc', join(root, 'etc'));
    assert.deepEqual(await measureTree(root, readOnly), { files: 2, bytes: 1005 });
    assert.deepEqual(await measureTree(root, new Set()), { files: 3, bytes: 6005 });
  } finally {
    fx.dispose();
  }
});
