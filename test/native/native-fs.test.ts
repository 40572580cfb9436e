import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { closeSync, constants, existsSync, fstatSync, linkSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AT_SYMLINK_NOFOLLOW, nativeFs, nativeFsStatus, STAT, UTIME_NOW_NS, UTIME_OMIT_NS } from '../../src/native/native-fs.js';
import { makeTempDir, repoRoot } from '../support/temp-dir.js';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_WRONLY, O_CREAT, O_EXCL } = constants;

describe('native fs addon', () => {
  it('is loaded on Linux unless WARREN_NO_NATIVE=1 (npm ci builds it; a failed build must not go unnoticed)', () => {
    if (process.env.WARREN_NO_NATIVE === '1') {
      assert.equal(nativeFsStatus.loaded, false);
      assert.match(nativeFsStatus.reason, /WARREN_NO_NATIVE/);
      return;
    }
    if (process.platform === 'linux') assert.equal(nativeFsStatus.loaded, true, `the addon did not load: ${nativeFsStatus.reason}`);
  });
});

describe('native fs calls', { skip: nativeFs === null ? `addon not in use: ${nativeFsStatus.reason}` : false }, () => {
  const fs = nativeFs!;
  let tmp: ReturnType<typeof makeTempDir>;
  let dirFd: number;

  before(() => {
    tmp = makeTempDir();
    mkdirSync(join(tmp.path, 'sub'));
    writeFileSync(join(tmp.path, 'file.txt'), 'hello');
    symlinkSync('file.txt', join(tmp.path, 'link'));
    dirFd = openSync(tmp.path, O_RDONLY | O_DIRECTORY);
  });
  after(() => {
    closeSync(dirFd);
    tmp.dispose();
  });

  /** The error Node's own fs throws for the same call, to compare code/errno with. */
  const nodeError = (fn: () => unknown): NodeJS.ErrnoException => {
    try {
      fn();
    } catch (err) {
      return err as NodeJS.ErrnoException;
    }
    throw new Error('expected Node to throw');
  };

  it('openat errors look like Node fs errors: code, errno, syscall, path', () => {
    const cases: [string, number, () => unknown][] = [
      ['missing', O_RDONLY, () => openSync(join(tmp.path, 'missing'), O_RDONLY)],
      ['link', O_RDONLY | O_NOFOLLOW, () => openSync(join(tmp.path, 'link'), O_RDONLY | O_NOFOLLOW)],
      ['file.txt/x', O_RDONLY, () => openSync(join(tmp.path, 'file.txt/x'), O_RDONLY)],
      ['file.txt', O_WRONLY | O_CREAT | O_EXCL, () => openSync(join(tmp.path, 'file.txt'), O_WRONLY | O_CREAT | O_EXCL)],
    ];
    for (const [name, flags, viaNode] of cases) {
      const expected = nodeError(viaNode);
      assert.throws(() => fs.openat(dirFd, name, flags, 0o644), (err: NodeJS.ErrnoException) => {
        assert.ok(err instanceof Error);
        assert.equal(err.code, expected.code, name);
        assert.equal(err.errno, expected.errno, name);
        assert.equal(err.syscall, 'openat');
        assert.equal(err.path, name);
        assert.match(err.message, new RegExp(`^${expected.code}: `));
        return true;
      });
    }
  });

  it('openatStat returns an fd and the fstat Node would give (mode, dev, ino, size, nlink)', () => {
    const out = new Float64Array(STAT.SLOTS);
    const fd = fs.openatStat(dirFd, 'file.txt', O_RDONLY | O_NOFOLLOW, 0, out);
    try {
      const st = fstatSync(fd);
      assert.deepEqual([...out], [st.mode, st.dev, st.ino, st.size, st.nlink]);
      assert.equal(Buffer.from(readFileSync(fd)).toString(), 'hello');
    } finally {
      fs.close(fd);
    }
    const dfd = fs.openatStat(dirFd, '.', O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, out);
    fs.close(dfd);
    assert.equal(out[STAT.INO], statSync(tmp.path).ino, '"." is the directory itself');
  });

  it('fstatat does not follow with AT_SYMLINK_NOFOLLOW and answers false for a missing name', () => {
    const out = new Float64Array(STAT.SLOTS);
    assert.equal(fs.fstatat(dirFd, 'link', AT_SYMLINK_NOFOLLOW, out), true);
    assert.equal(out[STAT.MODE]! & 0o170000, 0o120000);
    assert.equal(fs.fstatat(dirFd, 'link', 0, out), true);
    assert.equal(out[STAT.MODE]! & 0o170000, 0o100000);
    assert.equal(fs.fstatat(dirFd, 'missing', AT_SYMLINK_NOFOLLOW, out), false);
    assert.throws(() => fs.fstatat(dirFd, 'file.txt/x', AT_SYMLINK_NOFOLLOW, out), { code: 'ENOTDIR', syscall: 'fstatat' });
    assert.equal(fs.readlinkat(dirFd, 'link'), 'file.txt');
    assert.throws(() => fs.readlinkat(dirFd, 'file.txt'), { code: 'EINVAL', syscall: 'readlinkat' });
  });

  it('closes only fds it opened, and a worker thread\'s leftovers when it ends (as Node does for fs.open)', async () => {
    const nodeFd = openSync(tmp.path, O_RDONLY);
    assert.equal(fs.close(nodeFd), false, 'not ours: left open for fs.closeSync');
    fstatSync(nodeFd);
    closeSync(nodeFd);
    const open = () => readdirSync('/proc/self/fd').length;
    const before = open();
    for (const end of ['terminate', 'exit']) {
      const code = `const { workerData, parentPort } = require('node:worker_threads');
        const m = require(workerData.addon);
        for (let i = 0; i < 40; i++) m.openat(-100, workerData.dir, 0, 0);
        parentPort.postMessage('open');
        ${end === 'exit' ? "parentPort.once('message', () => process.exit(0));" : 'setInterval(() => {}, 1000);'}`;
      const w = new Worker(code, { eval: true, workerData: { addon: join(repoRoot, 'native/build/Release/warren_fs.node'), dir: tmp.path } });
      await once(w, 'message');
      // The worker ends only when told to, after this count (not after a delay a slow machine could pass first).
      assert.ok(open() >= before + 40, end);
      if (end === 'terminate') await w.terminate();
      else {
        const exited = once(w, 'exit');
        w.postMessage('exit');
        await exited;
      }
      assert.equal(open(), before, `fds left after the worker's ${end}`);
    }
  });

  it('utimensat and futimens set times to the nanosecond; now and unchanged are nanoseconds -1 and -2', () => {
    const file = join(tmp.path, 'file.txt');
    const before = statSync(file, { bigint: true });
    fs.utimensat(dirFd, 'link', 1400000000, 987654321, 1400000000, 123456789, AT_SYMLINK_NOFOLLOW);
    assert.equal(lstatSync(join(tmp.path, 'link'), { bigint: true }).mtimeNs, 1400000000123456789n);
    assert.equal(statSync(file, { bigint: true }).mtimeNs, before.mtimeNs, 'the link\'s own times, not its target\'s');
    const fd = openSync(file, O_RDONLY);
    try {
      fs.futimens(fd, 0, UTIME_OMIT_NS, 1700000000, 858742172);
      const st = statSync(file, { bigint: true });
      assert.equal(st.mtimeNs, 1700000000858742172n);
      assert.equal(st.atimeNs, before.atimeNs, 'UTIME_OMIT leaves atime alone');
      fs.futimens(fd, 0, UTIME_NOW_NS, 0, UTIME_OMIT_NS);
      assert.ok(statSync(file, { bigint: true }).atimeNs > 1700000000000000000n);
      assert.throws(() => fs.futimens(fd, 1.5, 0, 0, 0), TypeError);
      assert.throws(() => fs.futimens(fd, 0, 1e9, 0, 0), TypeError);
    } finally {
      closeSync(fd);
    }
    assert.throws(() => fs.utimensat(dirFd, 'missing', 0, 0, 0, 0, 0), (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && e.syscall === 'utimensat');
  });

  it('refuses paths with a NUL, which the kernel would cut short', () => {
    assert.throws(() => fs.openat(dirFd, 'file.txt\0/../x', O_RDONLY, 0), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => fs.fstatat(dirFd, 'a\0b', 0, new Float64Array(STAT.SLOTS)), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => fs.openat(dirFd, 'x'.repeat(5000), O_RDONLY, 0), { code: 'ENAMETOOLONG' });
  });

});
