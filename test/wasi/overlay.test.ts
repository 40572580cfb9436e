import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../support/temp-dir.js';
import { MountTableBuilder, type MountTable } from '../../src/wasi/index.js';
import { ERRNO, err, result, runProbe } from './probe-guest.js';
import { treeHash } from './overlay-tree.js';

const CONF = 'shared conf of the version';

/**
 * A worker root as an overlay: `upper` (the worker's own dir: its read-write files and what it
 * writes) over `lower` (the version's shared tree, never written). `share/` and `empty/` are
 * lower only, `both/` is in both layers, `mine/` upper only.
 */
describe('overlay mounts: a read-only lower tree under the mount\'s own directory', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let lower: string;
  let upper: string;
  let lowerHash: string;
  const mounts = (): MountTable => new MountTableBuilder().mount('/', upper, 'rw', { lower }).build();

  before(() => {
    tmp = makeTempDir();
    lower = join(tmp.path, 'lower');
    mkdirSync(join(lower, 'etc', 'sub'), { recursive: true });
    mkdirSync(join(lower, 'share', 'deep'), { recursive: true });
    mkdirSync(join(lower, 'empty'));
    mkdirSync(join(lower, 'both'));
    writeFileSync(join(lower, 'etc', 'conf.txt'), CONF);
    writeFileSync(join(lower, 'etc', 'sub', 'deep.txt'), 'deep');
    writeFileSync(join(lower, 'share', 'doc.txt'), 'doc');
    writeFileSync(join(lower, 'both', 'low.txt'), 'low');
    writeFileSync(join(lower, 'both', 'same.txt'), 'lower copy');
    lowerHash = treeHash(lower);
  });
  beforeEach(() => {
    upper = join(tmp.path, `upper-${Math.random().toString(36).slice(2)}`);
    mkdirSync(join(upper, 'both'), { recursive: true });
    mkdirSync(join(upper, 'mine'));
    writeFileSync(join(upper, 'rw.txt'), 'mutable');
    writeFileSync(join(upper, 'both', 'up.txt'), 'up');
    writeFileSync(join(upper, 'both', 'same.txt'), 'upper copy');
  });
  after(() => tmp.dispose());

  const lowerUnchanged = () => assert.equal(treeHash(lower), lowerHash, 'the lower tree is byte-for-byte unchanged');

  it('reads lower files, and refuses every write call on them as on read-only files', () => {
    const run = runProbe(mounts(), [
      'read', '/etc/conf.txt', 'read', '/both/same.txt',
      'write', '/etc/conf.txt', 'x', 'append', '/etc/conf.txt', 'x', 'open-rw', '/etc/conf.txt', 'x',
      'truncate', '/etc/conf.txt', 'fd-write', '/etc/conf.txt',
    ]);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(run.lines.filter((l) => l.startsWith('content ')), [`content ${CONF}`, 'content upper copy'], 'the upper layer shadows');
    for (const op of ['write', 'append', 'open-rw', 'truncate', 'fd_write', 'fd_pwrite', 'ftruncate', 'fd_allocate']) {
      assert.equal(result(run, op), err(ERRNO.EROFS), op);
    }
    assert.equal(result(run, 'futimens'), err(ERRNO.EPERM));
    assert.deepEqual(run.host.refusedWrites.slice(0, 1), ['/etc/conf.txt']);
    lowerUnchanged();
  });

  it('refuses unlink, rename, link, symlink over, utimes of lower names; rmdir of lower directories', () => {
    const run = runProbe(mounts(), [
      'unlink', '/etc/conf.txt', 'rename', '/etc/conf.txt', '/moved.txt', 'rename', '/rw.txt', '/etc/conf.txt',
      'link', '/etc/conf.txt', '/hard.txt', 'symlink', 'rw.txt', '/etc/conf.txt', 'utimes', '/etc/conf.txt',
      'rmdir', '/etc', 'rmdir', '/empty', 'rmdir', '/both', 'rename', '/share', '/share2', 'rename', '/both', '/both2',
      'rename', '/mine', '/empty', 'utimes', '/share', 'mkdir', '/etc', 'create-excl', '/etc/conf.txt', 'x',
      'rename', '/both/up.txt', '/both/low.txt',
    ]);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(run.lines.map((l) => l.trimEnd()), [
      'unlink ERR 63', 'rename ERR 63', 'rename ERR 63', 'link ERR 63', 'symlink ERR 63', 'utimes ERR 63',
      'rmdir ERR 55', // ENOTEMPTY: its lower entries cannot go
      'rmdir ERR 63', 'rmdir ERR 55', 'rename ERR 63', 'rename ERR 63', 'rename ERR 63', 'utimes ERR 63',
      'mkdir ERR 20', 'create-excl ERR 20', 'rename ERR 63',
    ]);
    assert.equal(readFileSync(join(upper, 'rw.txt'), 'utf8'), 'mutable');
    assert.ok(existsSync(join(upper, 'mine')));
    lowerUnchanged();
  });

  it('makes a new name in a lower-only directory in the upper layer, copying the directories up', () => {
    const run = runProbe(mounts(), [
      'write', '/share/deep/new.txt', 'fresh', 'mkdir', '/etc/sub/made', 'symlink', '../conf.txt', '/etc/sub/l',
      'link', '/rw.txt', '/share/rw-link.txt', 'rename', '/mine', '/empty/mine', 'read', '/share/deep/new.txt', 'read', '/etc/sub/l',
      'write', '/both/new.txt', 'b',
    ]);
    assert.equal(run.exitCode, 0, run.stderr);
    for (const op of ['write', 'mkdir', 'symlink', 'link', 'rename', 'read']) assert.equal(result(run, op), 'OK', op);
    assert.deepEqual(run.lines.filter((l) => l.startsWith('content ')), ['content fresh', `content ${CONF}`]);
    assert.equal(readFileSync(join(upper, 'share', 'deep', 'new.txt'), 'utf8'), 'fresh');
    assert.ok(statSync(join(upper, 'etc', 'sub', 'made')).isDirectory());
    assert.ok(lstatSync(join(upper, 'etc', 'sub', 'l')).isSymbolicLink());
    assert.equal(readFileSync(join(upper, 'share', 'rw-link.txt'), 'utf8'), 'mutable');
    assert.ok(statSync(join(upper, 'empty', 'mine')).isDirectory());
    assert.equal(readFileSync(join(upper, 'both', 'new.txt'), 'utf8'), 'b');
    // Only directories were copied up, with their lower modes; no lower file came along.
    assert.deepEqual(readdirSync(join(upper, 'share')).sort(), ['deep', 'rw-link.txt']);
    assert.equal(statSync(join(upper, 'share', 'deep')).mode, statSync(join(lower, 'share', 'deep')).mode);
    assert.equal(existsSync(join(upper, 'etc', 'conf.txt')), false);
    lowerUnchanged();
  });

  it('sees a directory it made where it found none before (names missing upper are not remembered past a change)', () => {
    const run = runProbe(mounts(), [
      'stat', '/both/fresh/x', 'stat', '/share/deep/x', 'mkdir', '/both/fresh', 'write', '/both/fresh/x', 'one',
      'write', '/share/deep/x', 'two', 'read', '/both/fresh/x', 'read', '/share/deep/x', 'ls', '/share/deep',
    ]);
    assert.deepEqual(run.lines.map((l) => l.trimEnd()), [
      'stat ERR 44', 'stat ERR 44', 'mkdir OK', 'write OK', 'write OK', 'read OK', 'content one', 'read OK', 'content two', 'ls OK .,..,x',
    ]);
    lowerUnchanged();
  });

  it('lists merged directories as the union, upper names first, none twice', () => {
    const run = runProbe(mounts(), [
      'ls', '/', 'ls', '/both', 'ls', '/share', 'write', '/share/added.txt', 'x', 'ls', '/share', 'unlink', '/share/added.txt', 'ls', '/share',
    ]);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(run.lines.filter((l) => l.startsWith('ls ')).map((l) => l.trimEnd()), [
      'ls OK .,..,both,empty,etc,mine,rw.txt,share',
      'ls OK .,..,low.txt,same.txt,up.txt',
      'ls OK .,..,deep,doc.txt',
      'ls OK .,..,added.txt,deep,doc.txt',
      'ls OK .,..,deep,doc.txt',
    ]);
    lowerUnchanged();
  });

  it('resolves symlinks and `..` through the union, and never past the mount', () => {
    const run = runProbe(mounts(), [
      'symlink', 'etc/conf.txt', '/to-lower', 'read', '/to-lower',
      'symlink', '../etc', '/mine/up-to-etc', 'read', '/mine/up-to-etc/sub/deep.txt',
      'read', '/share/../etc/conf.txt', 'read', '/mine/../share/deep/../doc.txt', 'read', '/both/../both/low.txt',
      'symlink', '../../x', '/share/out', 'read', '/../etc/conf.txt', 'stat', '/etc/sub/../../rw.txt',
    ]);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(run.lines.map((l) => l.trimEnd()), [
      'symlink OK', 'read OK', `content ${CONF}`,
      'symlink OK', 'read OK', 'content deep',
      'read OK', `content ${CONF}`, 'read OK', 'content doc', 'read OK', 'content low',
      'symlink ERR 63', 'read ERR 63', 'stat OK size=7 dir=0 link=0 nlink=1',
    ]);
    lowerUnchanged();
  });

  it('keeps guest links inside when they or their directory move out of a copied-up directory', () => {
    const run = runProbe(mounts(), [
      'symlink', '../../etc/conf.txt', '/share/deep/l', 'read', '/share/deep/l', 'rename', '/share/deep/l', '/l',
      'mkdir', '/share/deep/d', 'symlink', '../../../etc/conf.txt', '/share/deep/d/l2', 'rename', '/share/deep/d', '/d',
      'rename', '/share/deep/d', '/share/deep2', 'rename', '/share/deep/d', '/share/deep/e', 'read', '/share/deep/e/l2',
    ]);
    assert.deepEqual(run.lines.map((l) => l.trimEnd()), [
      'symlink OK', 'read OK', `content ${CONF}`, 'rename ERR 63', 'mkdir OK', 'symlink OK', 'rename ERR 63', 'rename ERR 63',
      'rename OK', 'read OK', `content ${CONF}`,
    ]);
    lowerUnchanged();
  });

  it('counts only what the upper layer holds against the disk quota', () => {
    writeFileSync(join(lower, 'big.bin'), Buffer.alloc(4096));
    lowerHash = treeHash(lower);
    const run = runProbe(mounts(), ['read', '/big.bin', 'write', '/share/w.txt', '12345'], { diskQuotaBytes: 100 });
    assert.equal(result(run, 'read'), 'OK');
    assert.equal(result(run, 'write'), 'OK');
    // upper before: rw.txt (7) + both/up.txt (2) + both/same.txt (10); then 5 written.
    assert.equal(run.host.diskUsedBytes, 7 + 2 + 10 + 5);
    rmSync(join(lower, 'big.bin'));
    lowerHash = treeHash(lower);
  });
});

describe('overlay mounts: a symlink in the lower layer (a placed tree has none) never leads out', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  before(() => {
    tmp = makeTempDir();
  });
  after(() => tmp.dispose());

  it('refuses links of the lower tree that point outside, and follows one that stays inside', () => {
    const lower = join(tmp.path, 'trees', 'v1');
    const upper = join(tmp.path, 'worker');
    mkdirSync(join(lower, 'dir'), { recursive: true });
    mkdirSync(upper);
    mkdirSync(join(tmp.path, 'trees', 'v2'));
    writeFileSync(join(tmp.path, 'trees', 'v2', 'secret.txt'), 'another version');
    writeFileSync(join(lower, 'dir', 'in.txt'), 'inside');
    symlinkSync('../v2', join(lower, 'up'));
    symlinkSync(join(tmp.path, 'trees', 'v2'), join(lower, 'abs'));
    symlinkSync('dir/in.txt', join(lower, 'ok'));
    const hash = treeHash(join(tmp.path, 'trees'));
    const run = runProbe(new MountTableBuilder().mount('/', upper, 'rw', { lower }).build(), [
      'read', '/up/secret.txt', 'read', '/abs/secret.txt', 'ls', '/up', 'read', '/ok', 'unlink', '/ok', 'readlink', '/ok',
    ]);
    assert.deepEqual(run.lines.map((l) => l.trimEnd()), [
      'read ERR 63', 'read ERR 63', 'ls ERR 63', 'read OK', 'content inside', 'unlink ERR 63', 'readlink OK dir/in.txt',
    ]);
    assert.ok(!run.stdout.includes('another version'));
    assert.equal(treeHash(join(tmp.path, 'trees')), hash);
  });
});
