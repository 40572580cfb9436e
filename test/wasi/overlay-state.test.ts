import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../support/temp-dir.js';
import { MountTableBuilder, WasiHost, type MountTable, type WasiState } from '../../src/wasi/index.js';
import { E, OFLAGS, R } from '../../src/wasi/abi.js';
import { rebaseWasiState } from '../../src/services/snapshots/rebase-wasi-state.js';
import { loadComponentProbe, runComponentProbe } from '../components/component-probe.js';
import { countingFdBudget } from '../support/counting-fd-budget.js';
import { ERRNO, err, loadFixture, result, runProbe } from './probe-guest.js';
import { treeHash } from './overlay-tree.js';

const READ = BigInt(R.FD_READ | R.FD_READDIR | R.FD_FILESTAT_GET | R.FD_SEEK | R.FD_TELL | R.PATH_OPEN | R.PATH_CREATE_FILE);
const WRITE = READ | BigInt(R.FD_WRITE);

/** preview1 calls on a host from the test, as a guest would make them (a scratch memory plays the guest's). */
function calls(host: WasiHost) {
  const mem = new WebAssembly.Memory({ initial: 1 });
  host.bind(mem);
  const wasi = host.imports.wasi_snapshot_preview1 as Record<string, (...a: (number | bigint)[]) => number>;
  const dv = () => new DataView(mem.buffer);
  const u8 = () => new Uint8Array(mem.buffer);
  const check = (errno: number) => {
    if (errno !== E.SUCCESS) throw new Error(`errno ${errno}`);
  };
  return {
    errno: (fn: () => void): number => {
      try {
        fn();
        return 0;
      } catch (e) {
        return Number((e as Error).message.replace('errno ', ''));
      }
    },
    open(path: string, dirFd = 3, oflags = 0, rights = READ): number {
      const b = Buffer.from(path);
      u8().set(b, 1024);
      check(wasi.path_open!(dirFd, 0, 1024, b.byteLength, oflags, rights, WRITE, 0, 0));
      return dv().getUint32(0, true);
    },
    stat(fd: number): { dev: bigint; ino: bigint } {
      check(wasi.fd_filestat_get!(fd, 64));
      return { dev: dv().getBigUint64(64, true), ino: dv().getBigUint64(72, true) };
    },
    read(fd: number, n: number): string {
      dv().setUint32(16, 2048, true);
      dv().setUint32(20, n, true);
      check(wasi.fd_read!(fd, 16, 1, 8));
      return Buffer.from(u8().slice(2048, 2048 + dv().getUint32(8, true))).toString();
    },
    write(fd: number, text: string): void {
      u8().set(Buffer.from(text), 2048);
      dv().setUint32(16, 2048, true);
      dv().setUint32(20, text.length, true);
      check(wasi.fd_write!(fd, 16, 1, 8));
    },
    /** Names fd_readdir gives, read a few entries per call (cookies carried across calls). */
    list(fd: number): string[] {
      const names: string[] = [];
      let cookie = 0n;
      for (;;) {
        check(wasi.fd_readdir!(fd, 4096, 64, cookie, 8));
        const used = dv().getUint32(8, true);
        let p = 4096;
        while (p + 24 <= 4096 + used) {
          const len = dv().getUint32(p + 16, true);
          if (p + 24 + len > 4096 + used) break;
          names.push(Buffer.from(u8().slice(p + 24, p + 24 + len)).toString());
          cookie = dv().getBigUint64(p, true);
          p += 24 + len;
        }
        // A full buffer may end in a cut entry: the next call starts after the last whole one.
        if (used < 64) return names;
      }
    },
  };
}

describe('overlay mounts: two workers, one lower tree; state that survives a restore', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let lower: string;
  const upper = (name: string): string => {
    const dir = join(tmp.path, name);
    mkdirSync(join(dir, 'both'), { recursive: true });
    writeFileSync(join(dir, 'both', 'up.txt'), 'up');
    return dir;
  };
  const mounts = (up: string, low = lower): MountTable => new MountTableBuilder().mount('/', up, 'rw', { lower: low }).build();

  before(() => {
    tmp = makeTempDir();
    lower = join(tmp.path, 'lower');
    mkdirSync(join(lower, 'etc'), { recursive: true });
    mkdirSync(join(lower, 'share'));
    mkdirSync(join(lower, 'both'));
    writeFileSync(join(lower, 'etc', 'conf.txt'), 'shared conf');
    writeFileSync(join(lower, 'share', 'doc.txt'), 'doc');
    writeFileSync(join(lower, 'both', 'low.txt'), 'low');
  });
  after(() => tmp.dispose());

  it('two workers of one version read the same host file for a lower path', () => {
    const a = new WasiHost({ args: [], env: {}, mounts: mounts(upper('a')) });
    const b = new WasiHost({ args: [], env: {}, mounts: mounts(upper('b')) });
    const ca = calls(a);
    const cb = calls(b);
    const sa = ca.stat(ca.open('etc/conf.txt'));
    const sb = cb.stat(cb.open('etc/conf.txt'));
    const host = statSync(join(lower, 'etc', 'conf.txt'));
    assert.deepEqual(sa, sb);
    assert.deepEqual(sa, { dev: BigInt(host.dev), ino: BigInt(host.ino) });
    a.close();
    b.close();
  });

  it('restores fds open on a lower file, a merged directory and a lower-only directory', () => {
    const hash = treeHash(lower);
    const up = upper('state');
    const host = new WasiHost({ args: [], env: {}, mounts: mounts(up) });
    const c = calls(host);
    const file = c.open('etc/conf.txt');
    assert.equal(c.read(file, 6), 'shared');
    const both = c.open('both', 3, OFLAGS.DIRECTORY);
    const share = c.open('share', 3, OFLAGS.DIRECTORY);
    const state = JSON.parse(JSON.stringify(host.exportState())) as WasiState;
    host.close();
    assert.equal(state.mounts.mounts[0]!.lowerPath, lower, 'the mount table keeps its lower layer');
    assert.equal(state.fds.find((f) => f.fd === file)!.lower, true);

    // Fork/failover: another node holds the same tree elsewhere; rebase points the state there.
    const lower2 = join(tmp.path, 'lower-node2');
    cpSync(lower, lower2, { recursive: true });
    const hash2 = treeHash(lower2);
    const up2 = join(tmp.path, 'state-node2');
    cpSync(up, up2, { recursive: true });
    const rebased = rebaseWasiState(state, mounts(up2, lower2));
    assert.equal(rebased.mounts.mounts[0]!.lowerPath, lower2);
    const restored = WasiHost.restore(rebased);
    const r = calls(restored);
    assert.equal(r.read(file, 100), ' conf', 'the lower file resumes at its offset');
    const st = statSync(join(lower2, 'etc', 'conf.txt'));
    assert.deepEqual(r.stat(file), { dev: BigInt(st.dev), ino: BigInt(st.ino) }, 'reopened in the new lower tree');
    assert.equal(r.errno(() => r.write(file, 'x')), ERRNO.EROFS, 'still read-only after the restore');
    assert.deepEqual(r.list(both).sort(), ['.', '..', 'low.txt', 'up.txt']);
    assert.equal(r.errno(() => r.open('etc/conf.txt', 3, 0, WRITE)), ERRNO.EROFS);
    const made = r.open('new.txt', share, OFLAGS.CREAT, WRITE);
    r.write(made, 'made');
    assert.equal(readFileSync(join(up2, 'share', 'new.txt'), 'utf8'), 'made', 'created through a lower dir fd: in the upper layer');
    assert.deepEqual(r.list(share).sort(), ['.', '..', 'doc.txt', 'new.txt']);
    restored.close();
    assert.equal(treeHash(lower), hash);
    assert.equal(treeHash(lower2), hash2);

    // A mount table without a lower layer takes it away.
    const plain = rebaseWasiState(state, new MountTableBuilder().mount('/', up2, 'rw').build());
    assert.equal('lowerPath' in plain.mounts.mounts[0]!, false);
  });

  it('keeps `..` right when merged directories (two fds each) overflow the directory cache', () => {
    const up = join(tmp.path, 'cache-up');
    const low = join(tmp.path, 'cache-low');
    for (let k = 0; k < 136; k++) {
      mkdirSync(join(low, `d${k}`), { recursive: true });
      mkdirSync(join(up, `d${k}`), { recursive: true });
      writeFileSync(join(low, `d${k}`, 'f'), `f${k}`);
    }
    mkdirSync(join(low, 'd0', 'new', 'sub'), { recursive: true });
    mkdirSync(join(up, 'd0', 'new'), { recursive: true });
    writeFileSync(join(low, 'd0', 'x'), 'top');
    writeFileSync(join(up, 'd0', 'new', 'x'), 'new');
    writeFileSync(join(low, 'd0', 'new', 'sub', 'x'), 'sub');
    const fill = Array.from({ length: 130 }, (_, k) => ['stat', `/d${k}/f`]).flat();
    const run = runProbe(mounts(up, low), [...fill, 'rawopen', '3', 'd0/new/sub/../../x', 'rawopen', '3', 'd0/new/sub/../x', 'rawopen', '3', 'd0/new/sub/x']);
    const contents = run.lines.filter((l) => l.startsWith('content ')).map((l) => l.slice(8));
    assert.deepEqual(contents, ['top', 'new', 'sub']);
  });

  it('counts both layers\' directory fds in the node\'s fd budget, and gives them all back on close', () => {
    const { budget, held, most } = countingFdBudget();
    const up = upper('budget');
    const host = new WasiHost({
      args: ['probe', 'read', '/both/low.txt', 'read', '/share/doc.txt', 'write', '/share/sub-made.txt', 'x', 'ls', '/both', 'ls', '/share'],
      env: {}, mounts: mounts(up), stdout: () => undefined, fdBudget: budget,
    });
    const preopens = held();
    host.start(new WebAssembly.Instance(loadFixture('wasi_probe.wasm'), host.imports));
    assert.ok(most() > preopens + 2, `the layers held ${most() - preopens} directory fds`);
    host.close();
    assert.equal(held(), 0);
  });

  it('wasi:filesystem (a component) sees the same overlay', async () => {
    const probe = await loadComponentProbe();
    const hash = treeHash(lower);
    const up = upper('component');
    const run = runComponentProbe(probe, mounts(up), [
      'read', '/etc/conf.txt', 'write', '/etc/conf.txt', 'x', 'unlink', '/share/doc.txt', 'write', '/share/c.txt', 'c', 'ls', '/both', 'rmdir', '/share',
    ]);
    assert.equal(result(run, 'read'), 'OK');
    assert.equal(result(run, 'write', 0), err(ERRNO.EROFS));
    assert.equal(result(run, 'unlink'), err(ERRNO.EPERM));
    assert.equal(result(run, 'write', 1), 'OK');
    assert.equal(result(run, 'ls'), 'OK .,..,low.txt,up.txt');
    assert.equal(result(run, 'rmdir'), err(55));
    assert.equal(readFileSync(join(up, 'share', 'c.txt'), 'utf8'), 'c');
    assert.equal(treeHash(lower), hash);
  });
});
