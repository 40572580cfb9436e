import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ComponentModules } from '../../src/runtime/thread-protocol.js';
import { MountTableBuilder } from '../../src/wasi/index.js';
import { makeTempDir } from '../support/temp-dir.js';
import { ERRNO, err, result } from '../wasi/probe-guest.js';
import { loadComponentProbe, runComponentProbe } from './component-probe.js';

const SECRET = 'SENTINEL-SECRET-do-not-read';
const RO_TEXT = 'read-only bytes shared by every worker';

/**
 * A hostile component (the C probe guest behind the preview1 adapter, so every call arrives as
 * wasi:filesystem) against Warren's WASI 0.2 host: the attacks preview2-shim let through
 * (session 1: a guest symlink written through into a read-only file, a host symlink read out to
 * /etc/passwd) and the classic escapes, each refused with the errno a preview1 guest gets.
 */
describe('WASI 0.2 file system: a component reaches nothing outside its mounts and writes no read-only file', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let data: string;
  let ro: string;
  let outside: string;
  let probe: ComponentModules;
  const mounts = () => new MountTableBuilder().mount('/data', data, 'rw').mount('/ro', ro, 'ro').readOnlyFile('/data/ro.txt').build();
  const noSecret = (out: string) => assert.ok(!out.includes('SENTINEL') && !out.includes('root:x:0:0'), `the guest read a secret:\n${out}`);

  before(async () => {
    probe = await loadComponentProbe();
    tmp = makeTempDir();
    data = join(tmp.path, 'data');
    ro = join(tmp.path, 'ro');
    outside = join(tmp.path, 'outside');
    mkdirSync(join(data, 'sub'), { recursive: true });
    mkdirSync(ro);
    mkdirSync(outside);
    writeFileSync(join(outside, 'sentinel.txt'), SECRET);
    writeFileSync(join(ro, 'data.txt'), 'ro mount bytes');
    writeFileSync(join(data, 'ro.txt'), RO_TEXT);
    chmodSync(join(data, 'ro.txt'), 0o666);
    writeFileSync(join(data, 'sub', 'file.txt'), 'inside');
    // Host-made links that point out: followed, they would leak.
    symlinkSync(join(outside, 'sentinel.txt'), join(data, 'abs-link'));
    symlinkSync('../outside/sentinel.txt', join(data, 'rel-link'));
    symlinkSync('/etc/passwd', join(data, 'passwd-link'));
    symlinkSync('../outside', join(data, 'dir-link'));
  });
  after(() => {
    assert.equal(readFileSync(join(outside, 'sentinel.txt'), 'utf8'), SECRET);
    assert.deepEqual(readdirSync(outside), ['sentinel.txt']);
    assert.equal(readFileSync(join(data, 'ro.txt'), 'utf8'), RO_TEXT);
    assert.equal(readFileSync(join(ro, 'data.txt'), 'utf8'), 'ro mount bytes');
    tmp.dispose();
  });

  it('refuses `..` past the mount and absolute paths (EPERM)', () => {
    const run = runComponentProbe(probe, mounts(), [
      'read', '/data/../outside/sentinel.txt', 'rawopen', '3', '../outside/sentinel.txt', 'rawopen', '3', 'sub/../../outside/sentinel.txt',
      'mkdir', '/data/../escape', 'write', '/data/../outside/sentinel.txt', 'pwned', 'read', '/data/sub/../sub/file.txt',
    ]);
    assert.equal(result(run, 'read', 0), err(ERRNO.EPERM));
    assert.equal(result(run, 'rawopen', 0), err(ERRNO.EPERM));
    assert.equal(result(run, 'rawopen', 1), err(ERRNO.EPERM));
    assert.equal(result(run, 'mkdir'), err(ERRNO.EPERM));
    assert.equal(result(run, 'write'), err(ERRNO.EPERM));
    assert.equal(result(run, 'read', 1), 'OK', '`..` that stays inside is fine');
    assert.equal(readdirSync(tmp.path).includes('escape'), false);
    noSecret(run.stdout);
  });

  it('host symlinks that leave the mount (absolute, relative, to /etc/passwd, to a directory) are not followed', () => {
    const run = runComponentProbe(probe, mounts(), [
      'read', '/data/abs-link', 'read', '/data/rel-link', 'read', '/data/passwd-link', 'read', '/data/dir-link/sentinel.txt',
      'write', '/data/rel-link', 'pwned', 'write', '/data/dir-link/new.txt', 'x',
    ]);
    for (let n = 0; n < 4; n++) assert.equal(result(run, 'read', n), err(ERRNO.EPERM), `read #${n}`);
    assert.equal(result(run, 'write', 0), err(ERRNO.EPERM));
    assert.equal(result(run, 'write', 1), err(ERRNO.EPERM));
    noSecret(run.stdout);
  });

  it('a guest cannot make a link out, nor write a read-only file through a symlink to it', () => {
    const run = runComponentProbe(probe, mounts(), [
      'symlink', '../outside/sentinel.txt', '/data/evil', 'symlink', '/etc/passwd', '/data/evil-abs', 'link', '/data/../outside/sentinel.txt', '/data/hard',
      // The preview2-shim escape of session 1: a guest symlink to a read-only file, then a write through it.
      'symlink', 'ro.txt', '/data/to-ro', 'write', '/data/to-ro', 'pwned', 'append', '/data/to-ro', 'pwned',
      'symlink', '../ro/data.txt', '/data/to-ro-mount', 'write', '/data/to-ro-mount', 'pwned',
    ]);
    assert.equal(result(run, 'symlink', 0), err(ERRNO.EPERM));
    assert.equal(result(run, 'symlink', 1), err(ERRNO.EPERM));
    assert.equal(result(run, 'link'), err(ERRNO.EPERM));
    assert.equal(result(run, 'symlink', 2), 'OK', 'a link inside the mount is fine');
    assert.equal(result(run, 'write', 0), err(ERRNO.EROFS), 'no write through a link to a read-only file');
    assert.equal(result(run, 'append'), err(ERRNO.EROFS));
    assert.equal(result(run, 'symlink', 3), err(ERRNO.EPERM), 'a link from one mount into another is a link out');
    for (const n of ['evil', 'evil-abs', 'hard']) assert.equal(readdirSync(data).includes(n), false, n);
    assert.equal(statSync(join(outside, 'sentinel.txt')).nlink, 1);
  });

  it('read-only files and mounts refuse every write with the preview1 errnos (EROFS, EPERM for name changes)', () => {
    const run = runComponentProbe(probe, mounts(), [
      'read', '/data/ro.txt', 'write', '/data/ro.txt', 'x', 'open-rw', '/data/ro.txt', 'x', 'truncate', '/data/ro.txt',
      'unlink', '/data/ro.txt', 'rename', '/data/ro.txt', '/data/moved.txt', 'write', '/ro/data.txt', 'x', 'mkdir', '/ro/new',
      'write', '/data/fresh.txt', 'new', 'read', '/data/fresh.txt',
    ]);
    assert.equal(result(run, 'read', 0), 'OK');
    assert.equal(result(run, 'write', 0), err(ERRNO.EROFS));
    assert.equal(result(run, 'open-rw'), err(ERRNO.EROFS));
    assert.equal(result(run, 'truncate'), err(ERRNO.EROFS));
    assert.equal(result(run, 'unlink'), err(ERRNO.EPERM));
    assert.equal(result(run, 'rename'), err(ERRNO.EPERM));
    assert.equal(result(run, 'write', 1), err(ERRNO.EROFS), 'a read-only mount');
    assert.equal(result(run, 'mkdir'), err(ERRNO.EROFS));
    assert.equal(result(run, 'write', 2), 'OK');
    assert.match(run.stdout, /content new/);
  });

  it('the disk quota holds for a component too (ENOSPC)', () => {
    const run = runComponentProbe(probe, mounts(), ['write', '/data/big.txt', 'x'.repeat(5000)], { diskQuotaBytes: 4096 });
    assert.equal(result(run, 'write'), err(ERRNO.ENOSPC));
  });
});
