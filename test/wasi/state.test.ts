import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../support/temp-dir.js';
import { MountTableBuilder, WasiHost, type WasiState } from '../../src/wasi/index.js';
import { ERRNO, err, loadFixture, result } from './probe-guest.js';

describe('WASI state export/restore', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let data: string;
  before(() => {
    tmp = makeTempDir();
    data = join(tmp.path, 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'story.txt'), 'hello world, this is a story');
  });
  after(() => tmp.dispose());

  it("resumes an open file at the same offset in a fresh host and instance", () => {
    const module = loadFixture('wasi_resume.reactor.wasm');
    const outA: string[] = [];
    const hostA = new WasiHost({
      args: ['resume'], env: { K: 'v' }, mounts: new MountTableBuilder().mount('/data', data, 'rw').build(),
      stdout: (c) => outA.push(Buffer.from(c).toString()),
    });
    const a = new WebAssembly.Instance(module, hostA.imports);
    hostA.initialize(a);
    const fd = (a.exports.open_file as () => number)();
    assert.ok(fd >= 3);
    assert.equal((a.exports.read_next as (n: number) => number)(5), 5);
    assert.equal(outA.join(''), '[hello]\n');

    const json = JSON.stringify(hostA.exportState());
    hostA.close();
    const state = JSON.parse(json) as WasiState;
    const file = state.fds.find((f) => f.guestPath === '/data/story.txt');
    assert.ok(file, json);
    assert.equal(file.fd, fd);
    assert.equal(file.offset, 5);
    assert.deepEqual(state.env, { K: 'v' });

    const outB: string[] = [];
    const hostB = WasiHost.restore(state, { stdout: (c) => outB.push(Buffer.from(c).toString()) });
    const b = new WebAssembly.Instance(module, hostB.imports);
    const memA = a.exports.memory as WebAssembly.Memory;
    const memB = b.exports.memory as WebAssembly.Memory;
    const grow = memA.buffer.byteLength / 65536 - memB.buffer.byteLength / 65536;
    if (grow > 0) memB.grow(grow);
    new Uint8Array(memB.buffer).set(new Uint8Array(memA.buffer));
    hostB.bind(memB);
    assert.equal((b.exports.read_next as (n: number) => number)(6), 6);
    assert.equal(outB.join(''), '[ world]\n');
    assert.equal(hostB.exportState().fds.find((f) => f.fd === fd)?.offset, 11);
    hostB.close();
  });

  it('re-keys the read-only set by guest path when the root is placed again (new inodes, new host path)', () => {
    const rootA = join(tmp.path, 'rootA');
    mkdirSync(rootA);
    writeFileSync(join(rootA, 'ro.txt'), 'blob');
    const hostA = new WasiHost({
      args: ['probe', 'write', '/ro.txt', 'pwned', 'unlink', '/ro.txt'], env: {},
      mounts: new MountTableBuilder().mount('/', rootA, 'rw').readOnlyFile('/ro.txt').build(),
    });
    const state = JSON.parse(JSON.stringify(hostA.exportState())) as WasiState;
    hostA.close();
    assert.equal(state.readOnlyIds.length, 1);
    // Another node: the same tree copied elsewhere (every inode differs), the mount rewritten.
    const rootB = join(tmp.path, 'rootB');
    cpSync(rootA, rootB, { recursive: true });
    rmSync(rootA, { recursive: true });
    state.mounts.mounts[0]!.hostPath = rootB;
    const out: Uint8Array[] = [];
    const hostB = WasiHost.restore(state, { stdout: (c) => out.push(c) });
    assert.notDeepEqual(hostB.exportState().readOnlyIds, state.readOnlyIds);
    const probe = new WebAssembly.Instance(loadFixture('wasi_probe.wasm'), hostB.imports);
    assert.equal(hostB.start(probe), 0);
    hostB.close();
    const run = { lines: Buffer.concat(out).toString().split('\n'), stdout: Buffer.concat(out).toString() } as Parameters<typeof result>[0];
    assert.equal(result(run, 'write'), err(ERRNO.EROFS));
    assert.equal(result(run, 'unlink'), err(ERRNO.EPERM));
    assert.equal(readFileSync(join(rootB, 'ro.txt'), 'utf8'), 'blob');
  });
});
