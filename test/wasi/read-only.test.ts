import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../support/temp-dir.js';
import { MountTableBuilder } from '../../src/wasi/index.js';
import { ERRNO, err, result, runProbe } from './probe-guest.js';

const RO_TEXT = 'store blob: shared by every worker';

describe('read-only files inside a read-write mount', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let data: string;
  let input: string;
  const mounts = () => new MountTableBuilder().mount('/data', data, 'rw').mount('/in', input, 'ro')
    .readOnlyFile('/data/ro.txt').readOnlyFile('/data/sub/deep-ro.txt').build();

  before(() => {
    tmp = makeTempDir();
    data = join(tmp.path, 'data');
    input = join(tmp.path, 'in');
    mkdirSync(join(data, 'sub'), { recursive: true });
    mkdirSync(input);
    writeFileSync(join(data, 'ro.txt'), RO_TEXT);
    // Writable by its owner on purpose: the host runs as root, mode bits must not be what protects it.
    chmodSync(join(data, 'ro.txt'), 0o666);
    writeFileSync(join(data, 'sub', 'deep-ro.txt'), 'deep');
    writeFileSync(join(data, 'rw.txt'), 'mutable');
    // A second name for the read-only bytes that the set does not list (as fsplace hardlinks blobs).
    linkSync(join(data, 'ro.txt'), join(data, 'alias.txt'));
    writeFileSync(join(input, 'text.txt'), 'input');
  });
  after(() => tmp.dispose());

  const unchanged = () => {
    assert.equal(readFileSync(join(data, 'ro.txt'), 'utf8'), RO_TEXT);
    assert.equal(statSync(join(data, 'ro.txt')).nlink, 2);
  };

  it('refuses every write call on a read-only file with EROFS, and name changes with EPERM', () => {
    const run = runProbe(mounts(), [
      'read', '/data/ro.txt',
      'write', '/data/ro.txt', 'x', 'append', '/data/ro.txt', 'x', 'open-rw', '/data/ro.txt', 'x',
      'truncate', '/data/ro.txt', 'fd-write', '/data/ro.txt',
      'unlink', '/data/ro.txt', 'rename', '/data/ro.txt', '/data/moved.txt', 'rename', '/data/rw.txt', '/data/ro.txt',
      'link', '/data/ro.txt', '/data/new-name.txt', 'symlink', 'rw.txt', '/data/ro.txt', 'utimes', '/data/ro.txt',
      'rename', '/data/sub', '/data/sub2', 'unlink', '/data/sub/deep-ro.txt',
    ]);
    assert.equal(run.exitCode, 0);
    assert.equal(result(run, 'read'), 'OK');
    assert.match(run.stdout, new RegExp(`content ${RO_TEXT}`));
    for (const op of ['write', 'append', 'open-rw', 'truncate', 'fd_write', 'fd_pwrite', 'ftruncate', 'fd_allocate']) {
      assert.equal(result(run, op), err(ERRNO.EROFS), op);
    }
    assert.equal(result(run, 'futimens'), err(ERRNO.EPERM));
    assert.equal(result(run, 'unlink'), err(ERRNO.EPERM));
    assert.equal(result(run, 'rename', 0), err(ERRNO.EPERM), 'rename a read-only file');
    assert.equal(result(run, 'rename', 1), err(ERRNO.EPERM), 'rename over a read-only file');
    assert.equal(result(run, 'link'), err(ERRNO.EPERM));
    assert.equal(result(run, 'symlink'), err(ERRNO.EPERM));
    assert.equal(result(run, 'utimes'), err(ERRNO.EPERM));
    assert.equal(result(run, 'rename', 2), err(ERRNO.EPERM), 'moving a directory holding a read-only file');
    assert.equal(result(run, 'unlink', 1), err(ERRNO.EPERM));
    unchanged();
    assert.equal(readFileSync(join(data, 'rw.txt'), 'utf8'), 'mutable');
    assert.deepEqual(readdirSync(data).sort(), ['alias.txt', 'ro.txt', 'rw.txt', 'sub']);
  });

  it('keys read-only by identity: another name for the same bytes is read-only too', () => {
    const run = runProbe(mounts(), [
      'write', '/data/alias.txt', 'x', 'open-rw', '/data/alias.txt', 'x', 'truncate', '/data/alias.txt',
      'unlink', '/data/alias.txt', 'rename', '/data/alias.txt', '/data/alias2.txt',
      'rawlink', '3', 'alias.txt', 'alias3.txt',
    ]);
    for (const op of ['write', 'open-rw', 'truncate']) assert.equal(result(run, op), err(ERRNO.EROFS), op);
    assert.equal(result(run, 'unlink'), err(ERRNO.EPERM));
    assert.equal(result(run, 'rename'), err(ERRNO.EPERM));
    assert.equal(result(run, 'rawlink'), err(ERRNO.EPERM));
    unchanged();
  });

  it('still refuses writes after a rename attempt and after a hardlink attempt', () => {
    const run = runProbe(mounts(), [
      'rename', '/data/ro.txt', '/data/elsewhere.txt', 'write', '/data/elsewhere.txt', 'pwned', 'write', '/data/ro.txt', 'pwned',
      'link', '/data/ro.txt', '/data/writable-name.txt', 'write', '/data/writable-name.txt', 'pwned',
      'read', '/data/elsewhere.txt',
    ]);
    assert.equal(result(run, 'rename'), err(ERRNO.EPERM));
    assert.equal(result(run, 'write', 0), 'OK', 'a new file named elsewhere.txt is just a new file');
    assert.equal(result(run, 'write', 1), err(ERRNO.EROFS));
    assert.equal(result(run, 'link'), err(ERRNO.EPERM));
    assert.equal(result(run, 'write', 2), 'OK');
    assert.match(run.stdout, /content pwned/);
    unchanged();
  });

  it('makes everything in a ro mount read-only (EROFS)', () => {
    const run = runProbe(mounts(), [
      'read', '/in/text.txt', 'write', '/in/text.txt', 'x', 'write', '/in/new.txt', 'x', 'unlink', '/in/text.txt',
      'mkdir', '/in/d', 'rename', '/in/text.txt', '/in/t2', 'utimes', '/in/text.txt', 'symlink', 'text.txt', '/in/l',
      'fd-write', '/in/text.txt', 'link', '/in/text.txt', '/data/from-ro-mount.txt', 'rmdir', '/in',
    ]);
    assert.equal(result(run, 'read'), 'OK');
    for (const op of ['unlink', 'mkdir', 'rename', 'utimes', 'symlink', 'fd_write', 'ftruncate', 'link']) {
      assert.equal(result(run, op), err(ERRNO.EROFS), op);
    }
    assert.equal(result(run, 'write', 0), err(ERRNO.EROFS));
    assert.equal(result(run, 'write', 1), err(ERRNO.EROFS));
    assert.equal(readFileSync(join(input, 'text.txt'), 'utf8'), 'input');
    assert.deepEqual(readdirSync(input), ['text.txt']);
  });
});
