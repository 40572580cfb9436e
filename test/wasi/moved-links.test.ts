import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../support/temp-dir.js';
import { MountTableBuilder } from '../../src/wasi/index.js';
import { MOVED_TREE_WALK_LIMIT } from '../../src/wasi/link-containment.js';
import { escapingLinks } from './escaping-links.js';
import { ERRNO, err, result, runProbe } from './probe-guest.js';

const SECRET = 'SECRET-next-to-the-mount';

// A link checked where it was made (`a/b/l -> ../../x` is `x`, inside) points elsewhere once moved
// (`l -> ../../x` leaves the mount): Warren judges links at every place they come to be.
describe('a guest symlink never comes to point outside its mount by being moved', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let n = 0;
  let data: string;
  const mounts = () => new MountTableBuilder().mount('/data', data, 'rw').build();

  before(() => {
    tmp = makeTempDir();
    writeFileSync(join(tmp.path, 'x'), SECRET);
  });
  after(() => tmp.dispose());

  const fresh = () => {
    data = join(tmp.path, `box${n++}`, 'data');
    mkdirSync(join(data, 'a', 'b'), { recursive: true });
    mkdirSync(join(data, 'c', 'd'), { recursive: true });
    writeFileSync(join(data, 'x'), 'inside');
  };

  it('renaming or hardlinking a link where its target would leave the mount is EPERM; a move that keeps it inside is fine', () => {
    fresh();
    const run = runProbe(mounts(), [
      'symlink', '../../x', '/data/a/b/l', 'read', '/data/a/b/l',
      'rename', '/data/a/b/l', '/data/l', 'link', '/data/a/b/l', '/data/l2', 'rawlink', '3', 'a/b/l', 'a/l3',
      'read', '/data/l',
      'rename', '/data/a/b/l', '/data/c/d/l', 'read', '/data/c/d/l',
    ]);
    assert.equal(result(run, 'symlink'), 'OK');
    assert.equal(result(run, 'read', 0), 'OK');
    assert.equal(result(run, 'rename', 0), err(ERRNO.EPERM));
    assert.equal(result(run, 'link'), err(ERRNO.EPERM));
    assert.equal(result(run, 'rawlink'), err(ERRNO.EPERM));
    assert.equal(result(run, 'read', 1), err(ERRNO.ENOENT));
    assert.equal(result(run, 'rename', 1), 'OK', 'same depth: the link still means c/d/../../x = x');
    assert.equal(result(run, 'read', 2), 'OK');
    assert.deepEqual(run.lines.filter((l) => l.startsWith('content ')), ['content inside', 'content inside']);
    assert.ok(!run.stdout.includes(SECRET));
    assert.deepEqual(escapingLinks(data), []);
    assert.equal(readlinkSync(join(data, 'c', 'd', 'l')), '../../x');
  });

  it('renaming a directory closer to the root is EPERM when a link inside it would leave; deeper is fine', () => {
    fresh();
    mkdirSync(join(data, 'p', 'q'), { recursive: true });
    const run = runProbe(mounts(), [
      'mkdir', '/data/a/b/in', 'symlink', '../../../x', '/data/a/b/in/l',
      'rename', '/data/a/b', '/data/b', 'rename', '/data/a', '/data/c/a', 'rename', '/data/c/a/b', '/data/p/q/b',
      'rename', '/data/p/q/b', '/data/p/b', 'read', '/data/p/b/in/l',
    ]);
    assert.equal(result(run, 'symlink'), 'OK');
    assert.equal(result(run, 'rename', 0), err(ERRNO.EPERM), 'a/b/in/l -> ../../../x would leave from b/in');
    assert.equal(result(run, 'rename', 1), 'OK', 'deeper: c/a/b/in/l -> ../../../x is c/x');
    assert.equal(result(run, 'rename', 2), 'OK', 'same depth');
    assert.equal(result(run, 'rename', 3), 'OK', 'p/b/in/../../../x is x');
    assert.equal(result(run, 'read'), 'OK');
    assert.match(run.stdout, /content inside/);
    assert.deepEqual(escapingLinks(data), []);
    assert.ok(lstatSync(join(data, 'p', 'b', 'in', 'l')).isSymbolicLink());
  });

  it('a directory too big to check is moved closer to the root only by copying (EXDEV)', () => {
    fresh();
    const big = join(data, 'a', 'b', 'big');
    mkdirSync(big);
    for (let k = 0; k <= MOVED_TREE_WALK_LIMIT; k++) writeFileSync(join(big, `f${k}`), '');
    const run = runProbe(mounts(), ['rename', '/data/a/b/big', '/data/big', 'rename', '/data/a/b/big', '/data/c/d/big']);
    assert.equal(result(run, 'rename', 0), err(ERRNO.EXDEV));
    assert.equal(result(run, 'rename', 1), 'OK', 'a move to the same depth needs no walk');
  });

  it('the resolver never follows a link that leaves, wherever the host put it', () => {
    fresh();
    symlinkSync('../../x', join(data, 'l'));
    symlinkSync('../../../x', join(data, 'a', 'l'));
    const run = runProbe(mounts(), ['read', '/data/l', 'read', '/data/a/l', 'stat', '/data/l', 'write', '/data/l', 'pwned', 'rawopen', '3', 'a/b/../l']);
    for (let k = 0; k < 2; k++) assert.equal(result(run, 'read', k), err(ERRNO.EPERM));
    assert.equal(result(run, 'stat'), err(ERRNO.EPERM));
    assert.equal(result(run, 'write'), err(ERRNO.EPERM));
    assert.equal(result(run, 'rawopen'), err(ERRNO.ELOOP), 'path_open without LOOKUP_SYMLINK_FOLLOW opens no link');
    assert.ok(!run.stdout.includes(SECRET));
  });
});
