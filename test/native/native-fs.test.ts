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

  for (const mode of ['async', 'sync'] as const) {
    it(`fileBatch (${mode}) makes directories, links and copies, and reports one errno per item`, async () => {
      const base = join(tmp.path, `batch-${mode}`);
      mkdirSync(base);
      const src = join(tmp.path, 'file.txt');
      const dirs = [join(base, 'a'), join(base, 'a', 'b'), join(base, 'missing', 'c')];
      const srcs = [src, src, join(tmp.path, 'missing'), src, src];
      const dsts = [join(base, 'a', 'l1'), join(base, 'a', 'b', 'c1'), join(base, 'a', 'l2'), join(base, 'a', 'l1'), join(base, 'missing', 'c', 'x')];
      const kinds = Uint8Array.from([0, 1, 0, 0, 0]);
      const needs = Int32Array.from([1, 2, 1, 1, 3]);
      const run = mode === 'async' ? fs.fileBatch : fs.fileBatchSync;
      const errnos = await run(dirs.join('\0'), 3, 0o755, srcs.join('\0'), dsts.join('\0'), 5, kinds, needs, 0o644, 2);
      const E = osConstants.errno;
      assert.deepEqual([...errnos], [0, 0, E.ENOENT, 0, 0, E.ENOENT, E.EEXIST, E.ECANCELED]);
      assert.equal(statSync(dsts[0]!).ino, statSync(src).ino, 'linked');
      const copy = statSync(dsts[1]!);
      assert.notEqual(copy.ino, statSync(src).ino, 'copied');
      assert.equal(copy.mode & 0o777, 0o644);
      assert.equal(readFileSync(dsts[1]!, 'utf8'), 'hello');
      assert.equal(existsSync(dsts[2]!), false);
    });
  }

  it('fileBatch copies whole files and spreads a large batch over threads', async () => {
    const base = join(tmp.path, 'big');
    mkdirSync(base);
    const big = join(tmp.path, 'big.bin');
    writeFileSync(big, Buffer.alloc(3 * 1024 * 1024 + 17, 7));
    const n = 300;
    const dirs = Array.from({ length: 10 }, (_, i) => join(base, `d${i}`));
    const srcs = Array.from({ length: n }, (_, i) => (i === 5 ? big : join(tmp.path, 'file.txt')));
    const dsts = Array.from({ length: n }, (_, i) => join(dirs[Math.floor(i / 30)]!, `f${i}`));
    const kinds = new Uint8Array(n);
    kinds[5] = 1;
    const needs = Int32Array.from({ length: n }, (_, i) => Math.floor(i / 30) + 1);
    const errnos = await fs.fileBatch(dirs.join('\0'), dirs.length, 0o755, srcs.join('\0'), dsts.join('\0'), n, kinds, needs, 0o644, 2);
    assert.deepEqual([...errnos].filter((e) => e !== 0), []);
    assert.deepEqual(readFileSync(dsts[5]!), readFileSync(big));
    assert.equal(statSync(join(tmp.path, 'file.txt')).nlink, 1 + n - 1 + 2, 'every link made once (plus the earlier batches)');
  });

  it('fileBatch with dirParents makes sibling directories independently; a failed one cancels only what is under it', async () => {
    const base = join(tmp.path, 'tree');
    mkdirSync(base);
    const src = join(tmp.path, 'file.txt');
    // 0 a (exists already: EEXIST), 1 a/x and 2 a/x/deep (under it: cancelled), 3 b, 4 b/c, 5 a parent outside the list
    mkdirSync(join(base, 'a'));
    const dirs = [join(base, 'a'), join(base, 'a', 'x'), join(base, 'a', 'x', 'deep'), join(base, 'b'), join(base, 'b', 'c'), join(tmp.path, 'sub', 'e')];
    const parents = Int32Array.from([0, 1, 2, 0, 4, 0]);
    const n = 200; // enough for two lanes
    const dsts = Array.from({ length: n }, (_, i) => join(dirs[4]!, `f${i}`));
    writeFileSync(join(base, 'there'), '');
    dsts.push(join(dirs[2]!, 'g'), join(dirs[5]!, 'h'), join(base, 'top'), join(base, 'there'));
    const needs = Int32Array.from([...Array<number>(n).fill(5), 3, 6, 0, 0]);
    const srcs = dsts.map(() => src);
    const errnos = await fs.fileBatch(dirs.join('\0'), dirs.length, 0o755, srcs.join('\0'), dsts.join('\0'), dsts.length, null, needs, 0o644, 2, parents);
    const E = osConstants.errno;
    assert.deepEqual([...errnos.slice(0, dirs.length)], [E.EEXIST, E.ECANCELED, E.ECANCELED, 0, 0, 0]);
    assert.deepEqual([...errnos.slice(dirs.length)], [...Array<number>(n).fill(0), E.ECANCELED, 0, 0, E.EEXIST]);
    for (const d of [dsts[0]!, dsts[n - 1]!, dsts[n + 1]!, dsts[n + 2]!]) assert.equal(statSync(d).ino, statSync(src).ino, `${d} linked`);
    assert.equal(existsSync(dirs[1]!), false);
    assert.throws(() => fs.fileBatchSync('', 0, 0o755, 'a', 'b', 1, null, null, 0o644, 1, Int32Array.from([1])), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => fs.fileBatchSync(`${base}/p\0${base}/q`, 2, 0o755, '', '', 0, null, null, 0o644, 1, Int32Array.from([0, 2])), { code: 'ERR_INVALID_ARG_VALUE' });
  });

  it('fileBatch dirParents -1 uses a directory that exists, -2 makes one unless it is there', async () => {
    const base = join(tmp.path, 'modes');
    mkdirSync(join(base, 'old'), { recursive: true });
    writeFileSync(join(base, 'plain'), '');
    const src = join(tmp.path, 'file.txt');
    const dirs = [join(base, 'old'), join(base, 'old'), join(base, 'new'), join(base, 'new', 'x'), join(base, 'plain')];
    const parents = Int32Array.from([-1, -2, -2, 3, -2]);
    const dsts = [join(base, 'old', 'a'), join(base, 'new', 'x', 'b')];
    const errnos = fs.fileBatchSync(dirs.join('\0'), dirs.length, 0o755, `${src}\0${src}`, dsts.join('\0'), 2, null, Int32Array.from([1, 4]), 0o644, 1, parents);
    assert.deepEqual([...errnos], [0, 0, 0, 0, osConstants.errno.ENOTDIR, 0, 0]);
    for (const d of dsts) assert.equal(statSync(d).ino, statSync(src).ino);
  });

  it('fileBatch refuses malformed input before touching anything', () => {
    const base = join(tmp.path, 'bad');
    assert.throws(() => fs.fileBatchSync(`${base}\0x`, 1, 0o755, '', '', 0, null, null, 0o644, 1), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => fs.fileBatchSync('', 0, 0o755, 'a\0b', 'c', 1, null, null, 0o644, 1), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => fs.fileBatchSync(base, 1, 0o755, 'a', 'b', 1, null, Int32Array.from([2]), 0o644, 1), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => fs.fileBatchSync('', 0, 0o755, 'a', 'b', 1, Uint8Array.from([2]), null, 0o644, 1), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.equal(existsSync(base), false);
  });

  it('fileBatch reports EXDEV for links across filesystems (the caller copies)', (t) => {
    const shm = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/warren-native-') : null;
    try {
      if (shm === null || statSync(shm).dev === statSync(tmp.path).dev) {
        t.skip('no second filesystem (/dev/shm)');
        return;
      }
      const src = join(tmp.path, 'file.txt');
      const errnos = fs.fileBatchSync('', 0, 0o755, `${src}\0${src}`, `${shm}/l\0${shm}/c`, 2, Uint8Array.from([0, 1]), null, 0o600, 1);
      assert.deepEqual([...errnos], [osConstants.errno.EXDEV, 0]);
      assert.equal(statSync(`${shm}/c`).mode & 0o777, 0o600);
      assert.equal(readFileSync(`${shm}/c`, 'utf8'), 'hello');
      linkSync(src, join(tmp.path, 'still-linkable')); // the source is untouched
    } finally {
      if (shm !== null) rmSync(shm, { recursive: true, force: true });
    }
  });
});
