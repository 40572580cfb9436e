import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isWarrenError } from '../../src/errors.js';
import { placeFileTree } from '../../src/fsplace/place-file-tree.js';
import type { FileTree } from '../../src/records.js';
import { inoOf, makeFixture, rootFiles } from './fsplace-fixture.js';

const FILES = {
  '/static/a.txt': { text: 'alpha', mode: 'ro' as const },
  '/static/deep/b.txt': { text: 'beta', mode: 'ro' as const },
  '/logo.bin': { text: 'logo', mode: 'ro' as const },
  '/data/state.json': { text: '{"n":0}', mode: 'rw' as const },
  '/data/empty': { text: '', mode: 'rw' as const },
};

test('two placements share every read-only inode with the store; read-write files are private', async () => {
  const fx = await makeFixture();
  try {
    const tree = await fx.tree(FILES);
    const r1 = join(fx.dir, 'w1', 'root');
    const r2 = join(fx.dir, 'w2', 'root');
    const p1 = await placeFileTree({ blobs: fx.blobs, tree, root: r1 });
    await placeFileTree({ blobs: fx.blobs, tree, root: r2 });
    assert.deepEqual(p1, { linked: 3, copied: 2, copyFallbacks: 0, readOnlyPaths: ['/logo.bin', '/static/a.txt', '/static/deep/b.txt'] });
    assert.deepEqual(rootFiles(r1), Object.fromEntries(Object.entries(FILES).map(([p, f]) => [p, f.text])));
    for (const entry of tree.entries) {
      const i1 = inoOf(join(r1, entry.path));
      const i2 = inoOf(join(r2, entry.path));
      const store = (await fx.blobs.path(entry.digest))!;
      if (entry.mode === 'ro') {
        assert.equal(i1, inoOf(store), entry.path);
        assert.equal(i2, inoOf(store), entry.path);
      } else {
        assert.notEqual(i1, i2, entry.path);
        assert.notEqual(i1, inoOf(store), entry.path);
        assert.equal(statSync(join(r1, entry.path)).mode & 0o777, 0o644);
      }
    }
    writeFileSync(join(r1, 'data/state.json'), '{"n":1}');
    assert.equal(readFileSync(join(r2, 'data/state.json'), 'utf8'), '{"n":0}');
    const store = (await fx.blobs.path(tree.entries.find((e) => e.path === '/data/state.json')!.digest))!;
    assert.equal(readFileSync(store, 'utf8'), '{"n":0}');
    assert.equal(statSync(join(r1, 'static')).mode & 0o777, 0o755);
  } finally {
    fx.dispose();
  }
});

test('placing does not change the mode of the store files', async () => {
  const fx = await makeFixture();
  try {
    const tree = await fx.tree(FILES);
    const before = await Promise.all(tree.entries.map(async (e) => statSync((await fx.blobs.path(e.digest))!).mode));
    await placeFileTree({ blobs: fx.blobs, tree, root: join(fx.dir, 'root') });
    const after = await Promise.all(tree.entries.map(async (e) => statSync((await fx.blobs.path(e.digest))!).mode));
    assert.deepEqual(after, before);
  } finally {
    fx.dispose();
  }
});

test('a missing blob fails with E_NOT_FOUND and leaves no root', async () => {
  const fx = await makeFixture();
  try {
    const tree = await fx.tree(FILES);
    const gone = tree.entries.find((e) => e.path === '/static/deep/b.txt')!;
    const bogus = await fx.tree({ '/x': { text: 'unused', mode: 'ro' } });
    await fx.blobs.delete(bogus.entries[0]!.digest);
    for (const missing of [gone.digest, bogus.entries[0]!.digest]) {
      const broken: FileTree = { version: 1, entries: [...tree.entries.filter((e) => e !== gone), { ...gone, digest: missing }] };
      if (missing === gone.digest) await fx.blobs.delete(gone.digest);
      const root = join(fx.dir, 'w', 'root');
      await assert.rejects(placeFileTree({ blobs: fx.blobs, tree: broken, root, concurrency: 2 }), (err) => isWarrenError(err, 'E_NOT_FOUND'));
      assert.equal(existsSync(root), false);
      assert.equal(existsSync(join(fx.dir, 'w')), true, 'the parent is left alone');
    }
    // A missing read-write blob, into a root that existed (empty): emptied, not removed.
    const rw = tree.entries.find((e) => e.path === '/data/state.json')!;
    await fx.blobs.delete(rw.digest);
    const root = join(fx.dir, 'pre');
    mkdirSync(root);
    await assert.rejects(
      placeFileTree({ blobs: fx.blobs, tree: { version: 1, entries: tree.entries.filter((e) => e !== gone) }, root }),
      (err) => isWarrenError(err, 'E_NOT_FOUND'),
    );
    assert.deepEqual(rootFiles(root), {});
  } finally {
    fx.dispose();
  }
});

test('paths are checked again: .., empty segments, NUL, relative, duplicates, file-as-dir', async () => {
  const fx = await makeFixture();
  try {
    const good = (await fx.tree({ '/ok': { text: 'x', mode: 'ro' } })).entries[0]!;
    const cases: string[][] = [['/a/../../etc/passwd'], ['/a//b'], ['/a/'], ['/a\0b'], ['a/b'], ['/'], ['/./a'], ['/x', '/x'], ['/x', '/x/y']];
    for (const paths of cases) {
      const root = join(fx.dir, 'root');
      const tree: FileTree = { version: 1, entries: paths.map((path) => ({ ...good, path })) };
      await assert.rejects(placeFileTree({ blobs: fx.blobs, tree, root }), (err) => isWarrenError(err, 'E_PATH_INVALID'), JSON.stringify(paths));
      assert.equal(existsSync(root), false, JSON.stringify(paths));
    }
    assert.equal(existsSync(join(fx.dir, 'etc')), false);
  } finally {
    fx.dispose();
  }
});

test('a root that holds anything is refused and left as it was', async () => {
  const fx = await makeFixture();
  try {
    const tree = await fx.tree(FILES);
    const root = join(fx.dir, 'root');
    mkdirSync(root);
    writeFileSync(join(root, 'keep.txt'), 'mine');
    await assert.rejects(placeFileTree({ blobs: fx.blobs, tree, root }), (err) => isWarrenError(err, 'E_ALREADY_EXISTS'));
    assert.deepEqual(rootFiles(root), { '/keep.txt': 'mine' });
  } finally {
    fx.dispose();
  }
});

test('a root is made with its missing parents; a file where the root should be is refused and left', async () => {
  const fx = await makeFixture();
  try {
    const tree = await fx.tree(FILES);
    const root = join(fx.dir, 'a', 'b', 'root');
    const placed = await placeFileTree({ blobs: fx.blobs, tree, root });
    assert.equal(placed.linked, 3);
    assert.deepEqual(rootFiles(root), Object.fromEntries(Object.entries(FILES).map(([p, f]) => [p, f.text])));
    const file = join(fx.dir, 'file-root');
    writeFileSync(file, 'mine');
    await assert.rejects(placeFileTree({ blobs: fx.blobs, tree, root: file }), (err) => isWarrenError(err, 'E_ALREADY_EXISTS'));
    assert.equal(readFileSync(file, 'utf8'), 'mine');
    await assert.rejects(placeFileTree({ blobs: fx.blobs, tree, root: join(file, 'root') }), { code: 'ENOTDIR' });
  } finally {
    fx.dispose();
  }
});

test('a root on another filesystem than the store copies read-only files and counts the fallbacks', async (t) => {
  const fx = await makeFixture();
  const shm = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/warren-fsplace-') : null;
  try {
    if (shm === null || statSync(shm).dev === statSync(fx.dir).dev) {
      t.skip('no second filesystem (/dev/shm) to place on');
      return;
    }
    const tree = await fx.tree(FILES);
    const events: string[] = [];
    const warnings: Record<string, unknown>[] = [];
    const result = await placeFileTree({
      blobs: fx.blobs,
      tree,
      root: join(shm, 'root'),
      onCopyFallback: (e) => events.push(`${e.guestPath}:${e.reason}`),
      logger: { warn: (obj) => warnings.push(obj) },
    });
    assert.equal(result.linked, 0);
    assert.equal(result.copyFallbacks, 3);
    assert.equal(result.copied, 2);
    assert.deepEqual(events.sort(), ['/logo.bin:EXDEV', '/static/a.txt:EXDEV', '/static/deep/b.txt:EXDEV']);
    assert.equal(warnings.length, 1, 'one warning per placement, not per file');
    assert.deepEqual(rootFiles(join(shm, 'root')), Object.fromEntries(Object.entries(FILES).map(([p, f]) => [p, f.text])));
  } finally {
    if (shm !== null) rmSync(shm, { recursive: true, force: true });
    fx.dispose();
  }
});

test('one copy-fallback counter: the node\'s (a second one on prom-client\'s default register was never served)', async () => {
  await import('../../src/fsplace/index.js');
  const { register } = await import('prom-client');
  assert.equal(register.getSingleMetric('warren_placement_copy_fallbacks_total'), undefined);
  const { WarrenMetrics } = await import('../../src/services/warren-metrics.js');
  const text = await new WarrenMetrics().registry.metrics();
  assert.equal(text.split('\n').filter((l) => l.startsWith('# TYPE warren_placement_copy_fallbacks_total ')).length, 1);
});
