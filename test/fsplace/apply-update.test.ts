import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { isWarrenError } from '../../src/errors.js';
import { applyUpdate } from '../../src/fsplace/apply-update.js';
import { placeFileTree } from '../../src/fsplace/place-file-tree.js';
import { planUpdate } from '../../src/fsplace/plan-update.js';
import { inoOf, makeFixture, rootFiles, rootState } from './fsplace-fixture.js';

type Spec = Record<string, { text: string; mode: 'ro' | 'rw' }>;
const ro = (text: string) => ({ text, mode: 'ro' as const });
const rw = (text: string) => ({ text, mode: 'rw' as const });

/** One row per rule: old tree, what the worker did, new tree, what the root must hold after. */
const ROWS: { name: string; old: Spec; worker?: (root: string) => void; next: Spec; expect: Record<string, string>; readOnly: string[] }[] = [
  { name: 'ro→ro same digest', old: { '/f': ro('v1') }, next: { '/f': ro('v1') }, expect: { '/f': 'v1' }, readOnly: ['/f'] },
  { name: 'ro→ro new digest', old: { '/f': ro('v1') }, next: { '/f': ro('v2') }, expect: { '/f': 'v2' }, readOnly: ['/f'] },
  { name: 'ro→rw', old: { '/f': ro('v1') }, next: { '/f': rw('v2') }, expect: { '/f': 'v2' }, readOnly: [] },
  { name: 'ro→missing', old: { '/d/f': ro('v1') }, next: {}, expect: {}, readOnly: [] },
  {
    name: 'rw→rw keeps the worker edit',
    old: { '/f': rw('v1') },
    worker: (r) => writeFileSync(join(r, 'f'), 'worker'),
    next: { '/f': rw('v2') },
    expect: { '/f': 'worker' },
    readOnly: [],
  },
  {
    name: 'rw→rw keeps a worker deletion',
    old: { '/f': rw('v1'), '/g': rw('g') },
    worker: (r) => unlinkSync(join(r, 'f')),
    next: { '/f': rw('v2'), '/g': rw('g2') },
    expect: { '/g': 'g' },
    readOnly: [],
  },
  { name: 'rw→missing keeps', old: { '/f': rw('v1') }, next: {}, expect: { '/f': 'v1' }, readOnly: [] },
  { name: 'missing→ro', old: {}, next: { '/n/f': ro('new') }, expect: { '/n/f': 'new' }, readOnly: ['/n/f'] },
  { name: 'missing→rw', old: {}, next: { '/f': rw('new') }, expect: { '/f': 'new' }, readOnly: [] },
  {
    name: 'missing→rw where the guest made that file keeps the guest file',
    old: {},
    worker: (r) => writeFileSync(join(r, 'f'), 'guest'),
    next: { '/f': rw('new') },
    expect: { '/f': 'guest' },
    readOnly: [],
  },
  {
    name: 'guest-created files, directories and symlinks are kept',
    old: { '/s/a': ro('a') },
    worker: (r) => {
      mkdirSync(join(r, 'mine/empty'), { recursive: true });
      writeFileSync(join(r, 'mine/note'), 'note');
      writeFileSync(join(r, 's/extra'), 'extra');
      symlinkSync('/etc', join(r, 'mine/etc-link'));
    },
    next: { '/s/a': ro('a2') },
    expect: { '/s/a': 'a2', '/s/extra': 'extra', '/mine/note': 'note', '/mine/etc-link': 'link:/etc' },
    readOnly: ['/s/a'],
  },
  { name: 'an old ro file becomes a directory', old: { '/x': ro('file') }, next: { '/x/y': ro('in dir') }, expect: { '/x/y': 'in dir' }, readOnly: ['/x/y'] },
  { name: 'an old ro directory becomes a file', old: { '/x/y': ro('in dir') }, next: { '/x': ro('file') }, expect: { '/x': 'file' }, readOnly: ['/x'] },
];

for (const row of ROWS) {
  test(`applyUpdate: ${row.name}`, async () => {
    const fx = await makeFixture();
    try {
      const oldTree = await fx.tree(row.old);
      const newTree = await fx.tree(row.next);
      const root = join(fx.dir, 'w', 'root');
      await placeFileTree({ blobs: fx.blobs, tree: oldTree, root });
      row.worker?.(root);
      const result = await applyUpdate({ blobs: fx.blobs, root, plan: planUpdate(oldTree, newTree) });
      const files = Object.fromEntries(Object.entries(rootState(root)).filter(([, v]) => v !== 'dir'));
      assert.deepEqual(files, row.expect);
      assert.deepEqual(result.readOnlyPaths, row.readOnly);
      for (const e of newTree.entries) {
        if (!(e.path in row.expect) || row.expect[e.path] !== row.next[e.path]!.text) continue;
        const store = inoOf((await fx.blobs.path(e.digest))!);
        if (e.mode === 'ro') assert.equal(inoOf(join(root, e.path)), store, `${e.path} is the store's inode`);
        else assert.notEqual(inoOf(join(root, e.path)), store, `${e.path} is a private copy`);
      }
      if (row.name.startsWith('guest-created')) assert.ok(statSync(join(root, 'mine/empty')).isDirectory());
      assert.deepEqual(readdirSync(join(fx.dir, 'w')), ['root'], 'no .next/.old/marker left');
    } finally {
      fx.dispose();
    }
  });
}

test('a rw file carried over keeps its inode (hardlinked, not copied)', async () => {
  const fx = await makeFixture();
  try {
    const oldTree = await fx.tree({ '/db': rw('data'), '/app': ro('v1') });
    const newTree = await fx.tree({ '/db': rw('other'), '/app': ro('v2') });
    const root = join(fx.dir, 'root');
    await placeFileTree({ blobs: fx.blobs, tree: oldTree, root });
    const before = inoOf(join(root, 'db'));
    await applyUpdate({ blobs: fx.blobs, root, plan: planUpdate(oldTree, newTree) });
    assert.equal(inoOf(join(root, 'db')), before);
  } finally {
    fx.dispose();
  }
});

test('rw→ro refuses the update and leaves the root untouched', async () => {
  const fx = await makeFixture();
  try {
    const oldTree = await fx.tree({ '/cfg': rw('mine'), '/a': ro('a1') });
    const newTree = await fx.tree({ '/cfg': ro('theirs'), '/a': ro('a2') });
    const root = join(fx.dir, 'w', 'root');
    await placeFileTree({ blobs: fx.blobs, tree: oldTree, root });
    writeFileSync(join(root, 'cfg'), 'edited');
    const before = rootState(root);
    const inodes = ['cfg', 'a'].map((f) => inoOf(join(root, f)));
    const plan = planUpdate(oldTree, newTree);
    await assert.rejects(applyUpdate({ blobs: fx.blobs, root, plan }), (err) => isWarrenError(err, 'E_UPDATE_CONFLICT') && (err.details.paths as string[])[0] === '/cfg');
    assert.deepEqual(rootState(root), before);
    assert.deepEqual(['cfg', 'a'].map((f) => inoOf(join(root, f))), inodes);
    assert.deepEqual(readdirSync(join(fx.dir, 'w')), ['root']);
  } finally {
    fx.dispose();
  }
});

test('a guest file where the new version puts a read-only file refuses the update, untouched', async () => {
  const fx = await makeFixture();
  try {
    const oldTree = await fx.tree({ '/a': ro('a1') });
    const newTree = await fx.tree({ '/a': ro('a2'), '/cache/x': ro('x'), '/logs': ro('l') });
    for (const [what, make] of [
      ['file at the path', (r: string) => (mkdirSync(join(r, 'cache')), writeFileSync(join(r, 'cache/x'), 'guest'))],
      ['file at a parent', (r: string) => writeFileSync(join(r, 'cache'), 'guest')],
      ['symlink at a parent', (r: string) => symlinkSync('/tmp', join(r, 'cache'))],
      ['directory with files', (r: string) => (mkdirSync(join(r, 'logs')), writeFileSync(join(r, 'logs/1'), 'l'))],
    ] as const) {
      const root = join(fx.dir, what.replace(/ /g, '-'), 'root');
      await placeFileTree({ blobs: fx.blobs, tree: oldTree, root });
      make(root);
      const before = rootState(root);
      await assert.rejects(applyUpdate({ blobs: fx.blobs, root, plan: planUpdate(oldTree, newTree) }), (err) => isWarrenError(err, 'E_UPDATE_CONFLICT'), what);
      assert.deepEqual(rootState(root), before, what);
      assert.equal(existsSync(`${root}.next`), false);
    }
  } finally {
    fx.dispose();
  }
});

test('a guest hardlink to a read-only file is carried over as a copy, never as the store inode', async () => {
  const fx = await makeFixture();
  try {
    const oldTree = await fx.tree({ '/lib.txt': ro('lib') });
    const newTree = await fx.tree({});
    const root = join(fx.dir, 'root');
    await placeFileTree({ blobs: fx.blobs, tree: oldTree, root });
    linkSync(join(root, 'lib.txt'), join(root, 'alias.txt'));
    await applyUpdate({ blobs: fx.blobs, root, plan: planUpdate(oldTree, newTree) });
    const store = (await fx.blobs.path(oldTree.entries[0]!.digest))!;
    assert.deepEqual(rootFiles(root), { '/alias.txt': 'lib' });
    assert.notEqual(inoOf(join(root, 'alias.txt')), inoOf(store));
    writeFileSync(join(root, 'alias.txt'), 'scribble');
    assert.equal(readFileSync(store, 'utf8'), 'lib');
  } finally {
    fx.dispose();
  }
});

test('a missing blob fails the update before anything changes', async () => {
  const fx = await makeFixture();
  try {
    const oldTree = await fx.tree({ '/a': ro('a1') });
    const newTree = await fx.tree({ '/a': ro('a2'), '/b': rw('b') });
    await fx.blobs.delete(newTree.entries[1]!.digest);
    const root = join(fx.dir, 'root');
    await placeFileTree({ blobs: fx.blobs, tree: oldTree, root });
    await assert.rejects(applyUpdate({ blobs: fx.blobs, root, plan: planUpdate(oldTree, newTree) }), (err) => isWarrenError(err, 'E_NOT_FOUND'));
    assert.deepEqual(rootFiles(root), { '/a': 'a1' });
    assert.equal(existsSync(`${root}.next`), false);
  } finally {
    fx.dispose();
  }
});
