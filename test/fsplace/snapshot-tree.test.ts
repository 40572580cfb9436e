import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, unlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { isWarrenError } from '../../src/errors.js';
import { RACY_WINDOW_MS } from '../../src/fsplace/digest-cache.js';
import { placeFileTree } from '../../src/fsplace/place-file-tree.js';
import { restoreWritableTree } from '../../src/fsplace/restore-tree.js';
import { snapshotWritableTree } from '../../src/fsplace/snapshot-tree.js';
import type { FileTree } from '../../src/records.js';
import { inoOf, makeFixture, rootFiles } from './fsplace-fixture.js';

/** Lets file timestamps fall out of the racy window so the digest cache may trust them. */
const settle = () => sleep(RACY_WINDOW_MS + 30);

async function placed() {
  const fx = await makeFixture();
  const tree = await fx.tree({
    '/static/a.txt': { text: 'alpha', mode: 'ro' },
    '/data/db': { text: 'db0', mode: 'rw' },
    '/data/log': { text: 'log0', mode: 'rw' },
  });
  const root = join(fx.dir, 'w', 'root');
  const { readOnlyPaths } = await placeFileTree({ blobs: fx.blobs, tree, root });
  return { fx, root, readOnlyPaths };
}

test('snapshot then restore brings back exactly the writable files', async () => {
  const { fx, root, readOnlyPaths } = await placed();
  try {
    mkdirSync(join(root, 'out/deep'), { recursive: true });
    writeFileSync(join(root, 'out/deep/result'), 'r1');
    writeFileSync(join(root, 'data/db'), 'db1');
    writeFileSync(join(root, 'data/empty'), '');
    linkSync(join(root, 'static/a.txt'), join(root, 'alias')); // a read-only inode under a new name
    symlinkSync('/etc/passwd', join(root, 'link'));
    const snap = await snapshotWritableTree({ blobs: fx.blobs, root, readOnlyPaths });
    assert.deepEqual(
      snap.tree.entries.map((e) => `${e.path}:${e.mode}:${e.size}`),
      ['/data/db:rw:3', '/data/empty:rw:0', '/data/log:rw:4', '/out/deep/result:rw:2'],
    );
    assert.deepEqual(JSON.parse((await fx.blobs.get(snap.digest!)).toString()), snap.tree);
    const atSnapshot = rootFiles(root);

    // The worker goes on and then fails: back to the snapshot.
    writeFileSync(join(root, 'data/db'), 'db2');
    unlinkSync(join(root, 'data/log'));
    writeFileSync(join(root, 'out/later'), 'later');
    mkdirSync(join(root, 'data/empty2'));
    unlinkSync(join(root, 'out/deep/result'));
    mkdirSync(join(root, 'out/deep/result')); // a directory where the snapshot has a file
    writeFileSync(join(root, 'out/deep/result/x'), 'x');
    const restored = await restoreWritableTree({ blobs: fx.blobs, root, tree: snap.tree, readOnlyPaths });
    const { ['/link']: _link, ...withoutLink } = atSnapshot;
    assert.deepEqual(rootFiles(root), withoutLink, 'symlinks are not snapshotted, so restore removes them');
    assert.equal(readFileSync(join(root, 'static/a.txt'), 'utf8'), 'alpha');
    assert.ok(restored.removed >= 3);
    // Restored files are private copies.
    const db = snap.tree.entries.find((e) => e.path === '/data/db')!;
    assert.notEqual(inoOf(join(root, 'data/db')), inoOf((await fx.blobs.path(db.digest))!));
  } finally {
    fx.dispose();
  }
});

test('a second snapshot of an unchanged tree reads no bytes; one change reads only that file', async () => {
  const { fx, root, readOnlyPaths } = await placed();
  try {
    writeFileSync(join(root, 'data/big'), 'x'.repeat(100_000));
    await settle();
    const first = await snapshotWritableTree({ blobs: fx.blobs, root, readOnlyPaths });
    assert.equal(first.bytesWritten, 100_000 + 3 + 4);
    const second = await snapshotWritableTree({ blobs: fx.blobs, root, readOnlyPaths });
    assert.equal(second.bytesWritten, 0);
    assert.equal(second.filesWritten, 0);
    assert.equal(second.digest, first.digest);

    writeFileSync(join(root, 'data/log'), 'log1!');
    await settle();
    const third = await snapshotWritableTree({ blobs: fx.blobs, root, readOnlyPaths });
    assert.equal(third.bytesWritten, 5);
    assert.equal(third.filesWritten, 1);
    assert.notEqual(third.digest, first.digest);
    const fourth = await snapshotWritableTree({ blobs: fx.blobs, root, readOnlyPaths });
    assert.equal(fourth.bytesWritten, 0);
  } finally {
    fx.dispose();
  }
});

test('a file rewritten with the same size and mtime is still seen (ctime, racy window)', async () => {
  const { fx, root, readOnlyPaths } = await placed();
  try {
    const { utimesSync, statSync } = await import('node:fs');
    await settle();
    const first = await snapshotWritableTree({ blobs: fx.blobs, root, readOnlyPaths });
    const st = statSync(join(root, 'data/db'));
    writeFileSync(join(root, 'data/db'), 'dbX');
    utimesSync(join(root, 'data/db'), st.atime, st.mtime); // the guest puts the mtime back
    const second = await snapshotWritableTree({ blobs: fx.blobs, root, readOnlyPaths });
    assert.equal(second.filesWritten, 1);
    const db = second.tree.entries.find((e) => e.path === '/data/db')!;
    assert.equal((await fx.blobs.get(db.digest)).toString(), 'dbX');
    assert.notEqual(second.digest, first.digest);
    // Written right before the snapshot, so not cached: the next snapshot hashes it again.
    writeFileSync(join(root, 'data/db'), 'dbY');
    const third = await snapshotWritableTree({ blobs: fx.blobs, root, readOnlyPaths });
    writeFileSync(join(root, 'data/db'), 'dbZ');
    const fourth = await snapshotWritableTree({ blobs: fx.blobs, root, readOnlyPaths });
    assert.equal((await fx.blobs.get(fourth.tree.entries.find((e) => e.path === '/data/db')!.digest)).toString(), 'dbZ');
    assert.notEqual(third.digest, fourth.digest);
  } finally {
    fx.dispose();
  }
});

test('include limits both snapshot and restore to the given directories', async () => {
  const { fx, root, readOnlyPaths } = await placed();
  try {
    writeFileSync(join(root, 'scratch'), 's');
    const snap = await snapshotWritableTree({ blobs: fx.blobs, root, readOnlyPaths, include: ['/data/'] });
    assert.deepEqual(snap.tree.entries.map((e) => e.path), ['/data/db', '/data/log']);
    writeFileSync(join(root, 'data/db'), 'changed');
    writeFileSync(join(root, 'data/new'), 'new');
    writeFileSync(join(root, 'scratch'), 's2');
    await restoreWritableTree({ blobs: fx.blobs, root, tree: snap.tree, readOnlyPaths, include: ['/data'] });
    assert.deepEqual(rootFiles(root), { '/static/a.txt': 'alpha', '/data/db': 'db0', '/data/log': 'log0', '/scratch': 's2' });
    await assert.rejects(
      restoreWritableTree({ blobs: fx.blobs, root, tree: snap.tree, readOnlyPaths, include: ['/other'] }),
      (err) => isWarrenError(err, 'E_SNAPSHOT_INVALID'),
    );
    // A guest symlink named like the mount is not followed.
    symlinkSync(join(fx.dir, 'outside'), join(root, 'mnt'));
    mkdirSync(join(fx.dir, 'outside'));
    writeFileSync(join(fx.dir, 'outside/secret'), 'host');
    await assert.rejects(snapshotWritableTree({ blobs: fx.blobs, root, readOnlyPaths, include: ['/mnt/sub'] }), (err) => isWarrenError(err, 'E_PATH_INVALID'));
    const viaLink = await snapshotWritableTree({ blobs: fx.blobs, root, readOnlyPaths, include: ['/mnt'] });
    assert.deepEqual(viaLink.tree.entries, []);
  } finally {
    fx.dispose();
  }
});

test('restore refuses a tree that would overwrite a read-only file, changing nothing', async () => {
  const { fx, root, readOnlyPaths } = await placed();
  try {
    const evil: FileTree = await fx.tree({ '/static/a.txt': { text: 'pwned', mode: 'rw' }, '/data/db': { text: 'zzz', mode: 'rw' } });
    const before = rootFiles(root);
    await assert.rejects(restoreWritableTree({ blobs: fx.blobs, root, tree: evil, readOnlyPaths }), (err) => isWarrenError(err, 'E_SNAPSHOT_INVALID'));
    const under: FileTree = await fx.tree({ '/static/a.txt/x': { text: 'pwned', mode: 'rw' } });
    await assert.rejects(restoreWritableTree({ blobs: fx.blobs, root, tree: under, readOnlyPaths }), (err) => isWarrenError(err, 'E_SNAPSHOT_INVALID'));
    const missing: FileTree = await fx.tree({ '/data/db': { text: 'gone', mode: 'rw' } });
    await fx.blobs.delete(missing.entries[0]!.digest);
    await assert.rejects(restoreWritableTree({ blobs: fx.blobs, root, tree: missing, readOnlyPaths }), (err) => isWarrenError(err, 'E_NOT_FOUND'));
    assert.deepEqual(rootFiles(root), before);
  } finally {
    fx.dispose();
  }
});

test('restore replaces a name that is a hardlink to a read-only file instead of writing through it', async () => {
  const { fx, root, readOnlyPaths } = await placed();
  try {
    const snap = await snapshotWritableTree({ blobs: fx.blobs, root, readOnlyPaths });
    unlinkSync(join(root, 'data/db'));
    linkSync(join(root, 'static/a.txt'), join(root, 'data/db'));
    await restoreWritableTree({ blobs: fx.blobs, root, tree: snap.tree, readOnlyPaths });
    assert.equal(readFileSync(join(root, 'data/db'), 'utf8'), 'db0');
    assert.equal(readFileSync(join(root, 'static/a.txt'), 'utf8'), 'alpha');
  } finally {
    fx.dispose();
  }
});

test('restoring onto an unchanged root after a snapshot writes nothing', async () => {
  const { fx, root, readOnlyPaths } = await placed();
  try {
    await settle();
    const snap = await snapshotWritableTree({ blobs: fx.blobs, root, readOnlyPaths });
    const result = await restoreWritableTree({ blobs: fx.blobs, root, tree: snap.tree, readOnlyPaths });
    assert.deepEqual(result, { written: 0, unchanged: 2, removed: 0 });
    // On a freshly placed root (another node) everything is written.
    const other = join(fx.dir, 'w2', 'root');
    const tree = await fx.tree({ '/static/a.txt': { text: 'alpha', mode: 'ro' } });
    await placeFileTree({ blobs: fx.blobs, tree, root: other });
    const fresh = await restoreWritableTree({ blobs: fx.blobs, root: other, tree: snap.tree, readOnlyPaths });
    assert.deepEqual(fresh, { written: 2, unchanged: 0, removed: 0 });
    assert.deepEqual(rootFiles(other), rootFiles(root));
  } finally {
    fx.dispose();
  }
});

test('the digest cache never trusts a file changed within the racy window', async () => {
  const { isCacheable, cacheKeyOf } = await import('../../src/fsplace/digest-cache.js');
  const now = 1_700_000_000_000;
  const ns = (ms: number) => BigInt(ms) * 1_000_000n;
  const stat = (ctimeMs: number, mtimeMs: number) =>
    ({ dev: 1n, ino: 2n, size: 3n, ctimeNs: ns(ctimeMs), mtimeNs: ns(mtimeMs) }) as unknown as import('node:fs').BigIntStats;
  assert.equal(isCacheable(stat(now, now - 10_000), now), false);
  assert.equal(isCacheable(stat(now - RACY_WINDOW_MS + 1, now - 10_000), now), false);
  assert.equal(isCacheable(stat(now - 10_000, now + 5_000), now), false, 'an mtime set into the future is not trusted');
  assert.equal(isCacheable(stat(now - 10_000, now - 10_000), now), true);
  assert.notEqual(cacheKeyOf(stat(now - 1, now)), cacheKeyOf(stat(now, now)), 'ctime is part of the key');
});
