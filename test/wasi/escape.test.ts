import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../support/temp-dir.js';
import { MountTableBuilder } from '../../src/wasi/index.js';
import { raceHooks } from '../../src/wasi/path-resolver.js';
import { ERRNO, err, result, runProbe } from './probe-guest.js';

const SECRET = 'SENTINEL-SECRET-do-not-read';

describe('no path escapes a mount', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let data: string;
  let outside: string;
  let sentinel: string;
  let sentinelMtime: number;
  const mounts = () => new MountTableBuilder().mount('/data', data, 'rw').readOnlyFile('/data/ro.txt').build();

  before(() => {
    tmp = makeTempDir();
    outside = join(tmp.path, 'outside');
    data = join(tmp.path, 'data');
    mkdirSync(outside);
    mkdirSync(join(data, 'sub'), { recursive: true });
    sentinel = join(outside, 'sentinel.txt');
    writeFileSync(sentinel, SECRET);
    writeFileSync(join(outside, 'file.txt'), SECRET);
    sentinelMtime = statSync(sentinel).mtimeMs;
    writeFileSync(join(data, 'sub', 'file.txt'), 'inside');
    writeFileSync(join(data, 'ro.txt'), 'read-only');
    symlinkSync(sentinel, join(data, 'abs-link'));
    symlinkSync('../outside/sentinel.txt', join(data, 'rel-link'));
    symlinkSync('../outside', join(data, 'dir-link'));
    symlinkSync('sub/../../outside/sentinel.txt', join(data, 'sneaky-link'));
    symlinkSync('sub/file.txt', join(data, 'inner-link'));
    symlinkSync('loop-b', join(data, 'loop-a'));
    symlinkSync('loop-a', join(data, 'loop-b'));
  });
  afterEach(() => {
    raceHooks.afterResolve = null;
    raceHooks.beforeOpen = null;
  });
  after(() => {
    // The sentinel outside the mount: same bytes, same mtime, nothing new next to it.
    assert.equal(readFileSync(sentinel, 'utf8'), SECRET);
    assert.equal(statSync(sentinel).mtimeMs, sentinelMtime);
    assert.deepEqual(readdirSync(outside).sort(), ['file.txt', 'sentinel.txt']);
    tmp.dispose();
  });

  const noSecret = (out: string) => assert.ok(!out.includes('SENTINEL'), `the guest read the sentinel:\n${out}`);

  it('refuses `..` past the mount root and absolute paths (EPERM, as wasmtime)', () => {
    const run = runProbe(mounts(), [
      'read', '/data/../outside/sentinel.txt', 'rawopen', '3', '../outside/sentinel.txt',
      'rawopen', '3', 'sub/../../outside/sentinel.txt', 'rawopen', '3', '/etc/passwd',
      'mkdir', '/data/../escape', 'rename', '/data/sub', '/data/../outside/moved',
      'write', '/data/../outside/sentinel.txt', 'pwned', 'rawopen', '3', 'sub/../sub/file.txt',
    ]);
    assert.equal(result(run, 'read'), err(ERRNO.EPERM));
    assert.equal(result(run, 'rawopen', 0), err(ERRNO.EPERM));
    assert.equal(result(run, 'rawopen', 1), err(ERRNO.EPERM));
    assert.equal(result(run, 'rawopen', 2), err(ERRNO.EPERM));
    assert.equal(result(run, 'mkdir'), err(ERRNO.EPERM));
    assert.equal(result(run, 'rename'), err(ERRNO.EPERM));
    assert.equal(result(run, 'write'), err(ERRNO.EPERM));
    assert.equal(result(run, 'rawopen', 3), 'OK', '`..` that stays inside is fine');
    assert.match(run.stdout, /content inside/);
    noSecret(run.stdout);
  });

  it('follows symlinks only inside the mount: absolute, escaping and looping links fail', () => {
    const run = runProbe(mounts(), [
      'read', '/data/abs-link', 'read', '/data/rel-link', 'read', '/data/dir-link/sentinel.txt', 'read', '/data/sneaky-link',
      'read', '/data/loop-a', 'read', '/data/inner-link', 'stat', '/data/rel-link', 'lstat', '/data/rel-link',
      'write', '/data/rel-link', 'pwned', 'write', '/data/dir-link/new.txt', 'x',
    ]);
    for (let n = 0; n < 4; n++) assert.equal(result(run, 'read', n), err(ERRNO.EPERM), `read #${n}`);
    assert.equal(result(run, 'read', 4), err(ERRNO.ELOOP));
    assert.equal(result(run, 'read', 5), 'OK');
    assert.match(run.stdout, /content inside/);
    assert.equal(result(run, 'stat'), err(ERRNO.EPERM));
    assert.match(result(run, 'lstat'), /^OK .*link=1/);
    assert.equal(result(run, 'write', 0), err(ERRNO.EPERM));
    assert.equal(result(run, 'write', 1), err(ERRNO.EPERM));
    noSecret(run.stdout);
  });

  it('refuses to make symlinks or hardlinks that lead outside', () => {
    const run = runProbe(mounts(), [
      'symlink', '../outside/sentinel.txt', '/data/evil', 'symlink', sentinel, '/data/evil-abs',
      'symlink', 'sub/../../outside', '/data/evil-dir', 'link', '/data/../outside/sentinel.txt', '/data/hard',
      'rawlinkf', '3', 'rel-link', 'hard2', 'rawlinkf', '3', 'dir-link/sentinel.txt', 'hard3',
      'symlink', 'sub/file.txt', '/data/fine-link', 'read', '/data/fine-link',
    ]);
    assert.equal(result(run, 'symlink', 0), err(ERRNO.EPERM));
    assert.equal(result(run, 'symlink', 1), err(ERRNO.EPERM));
    assert.equal(result(run, 'symlink', 2), err(ERRNO.EPERM));
    assert.equal(result(run, 'link'), err(ERRNO.EPERM));
    // path_link never follows a symlink (wasmtime's link_at: EINVAL), so no link through one leads outside.
    assert.equal(result(run, 'rawlinkf', 0), err(ERRNO.EINVAL));
    assert.equal(result(run, 'rawlinkf', 1), err(ERRNO.EINVAL));
    assert.equal(result(run, 'symlink', 3), 'OK');
    assert.match(run.stdout, /content inside/);
    assert.equal(statSync(sentinel).nlink, 1, 'no new hardlink to the sentinel');
    for (const n of ['evil', 'evil-abs', 'evil-dir', 'hard', 'hard2', 'hard3']) {
      assert.equal(readdirSync(data).includes(n), false, n);
    }
  });

  it('a directory swapped for a symlink between check and use leads nowhere outside', () => {
    let swapped = 0;
    raceHooks.afterResolve = (r) => {
      if (swapped || !r.mountRel.startsWith('sub/')) return;
      swapped++;
      renameSync(join(data, 'sub'), join(data, 'sub-real'));
      symlinkSync('../outside', join(data, 'sub'));
    };
    try {
      const run = runProbe(mounts(), ['read', '/data/sub/file.txt', 'write', '/data/sub/planted.txt', 'x']);
      assert.equal(swapped, 1);
      noSecret(run.stdout);
      // The resolved directory was held open: the read saw the real (moved) directory or failed.
      assert.ok(/content inside/.test(run.stdout) || result(run, 'read').startsWith('ERR'), run.stdout);
      // The write lands in the directory that was checked (now sub-real) or fails; never outside.
      const landed = readdirSync(join(data, 'sub-real')).includes('planted.txt');
      assert.ok(landed || result(run, 'write').startsWith('ERR'), run.stdout);
    } finally {
      unlinkSync(join(data, 'sub'));
      renameSync(join(data, 'sub-real'), join(data, 'sub'));
    }
  });

  it('a file swapped for a symlink or a read-only hardlink between check and open is refused at open', () => {
    writeFileSync(join(data, 'victim.txt'), 'victim');
    writeFileSync(join(data, 'victim2.txt'), 'victim');
    raceHooks.beforeOpen = (r) => {
      if (r.mountRel === 'victim.txt') {
        rmSync(join(data, 'victim.txt'));
        symlinkSync(sentinel, join(data, 'victim.txt'));
      } else if (r.mountRel === 'victim2.txt') {
        rmSync(join(data, 'victim2.txt'));
        linkSync(join(data, 'ro.txt'), join(data, 'victim2.txt'));
      }
    };
    const run = runProbe(mounts(), ['read', '/data/victim.txt', 'write', '/data/victim2.txt', 'pwned']);
    // O_NOFOLLOW sees the symlink (ELOOP); following it again is refused by the resolver (EPERM).
    assert.match(result(run, 'read'), new RegExp(`^ERR (${ERRNO.ELOOP}|${ERRNO.EPERM})$`));
    assert.equal(result(run, 'write'), err(ERRNO.EROFS));
    assert.equal(readFileSync(join(data, 'ro.txt'), 'utf8'), 'read-only');
    noSecret(run.stdout);
    rmSync(join(data, 'victim.txt'));
    rmSync(join(data, 'victim2.txt'));
  });
});
