import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { isWarrenError } from '../../src/errors.js';
import { DiskBlobs } from '../../src/ports/embedded/disk-blobs.js';
import type { FileTree } from '../../src/records.js';
import { decodeFileTree, encodeFileTree, readFileTree, writeFileTree } from '../../src/manifest/file-tree.js';
import { makeTempDir } from '../support/temp-dir.js';

const D1 = `sha256-${Buffer.alloc(32, 1).toString('base64')}`;
const D2 = `sha256-${Buffer.alloc(32, 2).toString('base64')}`;

test('encoding is canonical: sorted entries, fixed key order', () => {
  const a: FileTree = {
    version: 1,
    entries: [
      { size: 2, mode: 'rw', digest: D2, path: '/b' },
      { path: '/a/x', digest: D1, mode: 'ro', size: 1 },
    ],
  };
  const b: FileTree = { version: 1, entries: [a.entries[1]!, { path: '/b', digest: D2, mode: 'rw', size: 2 }] };
  assert.equal(encodeFileTree(a).toString(), encodeFileTree(b).toString());
  assert.equal(
    encodeFileTree(a).toString(),
    `{"version":1,"entries":[{"path":"/a/x","digest":"${D1}","mode":"ro","size":1},{"path":"/b","digest":"${D2}","mode":"rw","size":2}]}`,
  );
  assert.deepEqual(decodeFileTree(encodeFileTree(a)), b);
  assert.throws(() => encodeFileTree({ version: 1, entries: [b.entries[0]!, b.entries[0]!] }), (err) => isWarrenError(err, 'E_INTERNAL'));
});

test('decoding validates the shape and the tree invariants', () => {
  const entry = (path: string, extra: Record<string, unknown> = {}) => ({ path, digest: D1, mode: 'ro', size: 1, ...extra });
  const bad: unknown[] = [
    'not json',
    { version: 2, entries: [] },
    { version: 1 },
    { version: 1, entries: [entry('relative')] },
    { version: 1, entries: [entry('/a/../b')] },
    { version: 1, entries: [entry('/a', { mode: 'rwx' })] },
    { version: 1, entries: [entry('/a', { size: -1 })] },
    { version: 1, entries: [entry('/a', { digest: 'md5-abc' })] },
    { version: 1, entries: [entry('/a', { extra: true })] },
    { version: 1, entries: [entry('/b'), entry('/a')] },
    { version: 1, entries: [entry('/a'), entry('/a')] },
    { version: 1, entries: [entry('/a'), entry('/a/b')] },
  ];
  for (const value of bad) {
    const bytes = typeof value === 'string' ? value : JSON.stringify(value);
    assert.throws(() => decodeFileTree(bytes), (err) => isWarrenError(err, 'E_INTEGRITY'), bytes);
  }
  assert.deepEqual(decodeFileTree(JSON.stringify({ version: 1, entries: [entry('/a'), entry('/a b'), entry('/a.b/c')] })).entries.length, 3);
});

test('trees are stored as blobs and read back', async (t) => {
  const tmp = makeTempDir();
  t.after(tmp.dispose);
  const blobs = new DiskBlobs(join(tmp.path, 'store'));
  const tree: FileTree = { version: 1, entries: [{ path: '/x', digest: D1, mode: 'ro', size: 1 }] };
  const digest = await writeFileTree(blobs, tree);
  assert.equal(await writeFileTree(blobs, { version: 1, entries: [...tree.entries] }), digest);
  assert.deepEqual(await readFileTree(blobs, digest), tree);
  await blobs.put('{"version":1,"entries":"nope"}').then(async (info) => {
    await assert.rejects(readFileTree(blobs, info.integrity), (err) => isWarrenError(err, 'E_INTEGRITY'));
  });
});
