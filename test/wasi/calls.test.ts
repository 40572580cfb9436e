import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../support/temp-dir.js';
import { MountTableBuilder, WasiHost } from '../../src/wasi/index.js';
import { ERRNO, err, loadFixture, result, runProbe } from './probe-guest.js';

describe('preview1 call groups', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let data: string;
  const mounts = () => new MountTableBuilder().mount('/data', data, 'rw').build();
  before(() => {
    tmp = makeTempDir();
    data = join(tmp.path, 'data');
    mkdirSync(join(data, 'many'), { recursive: true });
    for (let i = 0; i < 3000; i++) writeFileSync(join(data, 'many', `f${i}`), '');
  });
  after(() => tmp.dispose());

  it('args, environ, clocks, random, poll_oneoff sleep, stdin, sched, sockets and proc_raise', () => {
    const run = runProbe(mounts(), ['args', 'env', 'GREETING', 'clock', 'random', 'sleep', '30', 'stdin', 'sock'], {
      env: { GREETING: 'hi there' }, stdin: new TextEncoder().encode('from stdin'),
    });
    assert.equal(run.exitCode, 0);
    assert.equal(result(run, 'args'), 'OK argc=10');
    assert.equal(result(run, 'env'), 'OK hi there');
    assert.equal(result(run, 'clock'), 'OK year_ok=1 res_ns=1');
    assert.equal(result(run, 'random'), 'OK nonzero=1');
    assert.equal(result(run, 'sleep'), 'OK slept_enough=1');
    assert.equal(result(run, 'stdin'), 'OK from stdin');
    // wasmtime with no sockets: ENOTSOCK on a valid fd, EBADF on a bad one; proc_raise ENOTSUP.
    assert.equal(result(run, 'sock_accept'), err(ERRNO.ENOTSOCK));
    assert.equal(result(run, 'sock_shutdown'), err(ERRNO.ENOTSOCK));
    assert.equal(result(run, 'sock_shutdown_badfd'), err(ERRNO.EBADF));
    assert.equal(result(run, 'proc_raise'), err(ERRNO.ENOTSUP));
    assert.equal(result(run, 'sched_yield'), 'OK');
  });

  it('every preview1 function is imported, and a module importing all of them links', () => {
    const host = new WasiHost({ args: [], env: {}, mounts: mounts() });
    const names = Object.keys(host.imports.wasi_snapshot_preview1 as object).sort();
    host.close();
    assert.equal(names.length, 46);
    for (const n of ['fd_advise', 'fd_allocate', 'fd_renumber', 'path_link', 'path_symlink', 'poll_oneoff', 'proc_raise', 'sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown']) {
      assert.ok(names.includes(n), n);
    }
  });

  it('files and directories: create, write, append, read, stat, list, rename, link, symlink, unlink, rmdir', () => {
    const run = runProbe(mounts(), [
      'mkdir', '/data/d', 'write', '/data/d/a.txt', 'hello', 'append', '/data/d/a.txt', ' world', 'read', '/data/d/a.txt',
      'stat', '/data/d/a.txt', 'ls', '/data/d', 'rename', '/data/d/a.txt', '/data/d/b.txt', 'link', '/data/d/b.txt', '/data/d/c.txt',
      'stat', '/data/d/c.txt', 'symlink', 'b.txt', '/data/d/s', 'readlink', '/data/d/s', 'read', '/data/d/s',
      'create-excl', '/data/d/b.txt', 'x', 'rmdir', '/data/d', 'unlink', '/data/d/b.txt', 'unlink', '/data/d/c.txt', 'unlink', '/data/d/s',
      'rmdir', '/data/d', 'ls', '/data/many', 'read', '/data/missing', 'unlink', '/data/many',
    ]);
    assert.equal(result(run, 'mkdir'), 'OK');
    assert.match(run.stdout, /content hello world\n/);
    assert.equal(result(run, 'stat'), 'OK size=11 dir=0 link=0 nlink=1');
    assert.equal(result(run, 'ls'), 'OK .,..,a.txt');
    assert.equal(result(run, 'rename'), 'OK');
    assert.equal(result(run, 'link'), 'OK');
    assert.equal(result(run, 'stat', 1), 'OK size=11 dir=0 link=0 nlink=2');
    assert.equal(result(run, 'readlink'), 'OK b.txt');
    assert.equal(result(run, 'read', 1), 'OK');
    assert.equal(result(run, 'create-excl'), err(ERRNO.EEXIST));
    assert.equal(result(run, 'rmdir', 0), err(55)); // ENOTEMPTY
    assert.equal(result(run, 'rmdir', 1), 'OK');
    assert.equal(result(run, 'ls', 1), 'OK count=3002');
    assert.equal(result(run, 'read', 2), err(ERRNO.ENOENT));
    assert.equal(result(run, 'unlink', 3), err(ERRNO.EISDIR));
    assert.equal(existsSync(join(data, 'd')), false);
  });

  it('exit codes, traps, and the output cap', () => {
    assert.equal(runProbe(mounts(), ['exit', '7']).exitCode, 7);
    assert.throws(() => runProbe(mounts(), ['trap']), WebAssembly.RuntimeError);
    const capped = runProbe(mounts(), ['spam', '1000'], { maxOutputBytes: 100 });
    assert.equal(capped.stdout.length, 100);
    assert.equal(capped.host.outputLimitExceeded, true);
    assert.equal(runProbe(mounts(), ['spam', '3']).host.outputLimitExceeded, false);
  });

  it('the disk quota counts existing files and refuses growth past it with ENOSPC', () => {
    writeFileSync(join(data, 'existing.bin'), Buffer.alloc(60));
    const run = runProbe(mounts(), ['write', '/data/q1.txt', 'x'.repeat(30), 'write', '/data/q2.txt', 'y'.repeat(30), 'unlink', '/data/existing.bin', 'write', '/data/q3.txt', 'z'.repeat(30)], { diskQuotaBytes: 100 });
    assert.equal(result(run, 'write', 0), 'OK');
    assert.equal(result(run, 'write', 1), err(ERRNO.ENOSPC));
    assert.equal(run.host.diskQuotaExceeded, true);
    assert.equal(result(run, 'write', 2), 'OK', 'unlinking gave the bytes back');
    assert.equal(readFileSync(join(data, 'q3.txt'), 'utf8'), 'z'.repeat(30));
  });

  it('maxOpenFiles bounds the fd table (EMFILE): stdio + 1 preopen = 4 leaves no room', () => {
    const out: Uint8Array[] = [];
    const h2 = new WasiHost({ args: ['probe', 'read', '/data/q1.txt'], env: {}, mounts: mounts(), maxOpenFiles: 4, stdout: (c) => out.push(c) });
    h2.start(new WebAssembly.Instance(loadFixture('wasi_probe.wasm'), h2.imports));
    h2.close();
    assert.match(Buffer.concat(out).toString(), new RegExp(`read ERR ${ERRNO.EMFILE}`));
  });
});
