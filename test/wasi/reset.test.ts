import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../support/temp-dir.js';
import { MountTableBuilder, WasiHost, type MountTable, type StdinSource } from '../../src/wasi/index.js';
import { ERRNO, err, loadFixture } from './probe-guest.js';

/**
 * A job thread reuses one WasiHost (its imports) for every job: `reset` must leave nothing of
 * the previous run visible to the next one: not its args, env, stdin, fds, mounts, read-only
 * set, output count or disk quota.
 */
describe('WasiHost.reset: a reused host is a fresh host', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let a: string;
  let b: string;
  let out: Uint8Array[] = [];

  before(() => {
    tmp = makeTempDir();
    a = join(tmp.path, 'a');
    b = join(tmp.path, 'b');
    mkdirSync(a);
    mkdirSync(b);
    writeFileSync(join(a, 'only-in-a.txt'), 'from a');
    writeFileSync(join(a, 'ro.txt'), 'read-only in run 1');
    writeFileSync(join(b, 'ro.txt'), 'writable in run 2');
  });
  after(() => tmp.dispose());

  const opts = (mounts: MountTable, args: string[], extra: { env?: Record<string, string>; stdin?: StdinSource; maxOutputBytes?: number; diskQuotaBytes?: number } = {}) => ({
    args: ['probe', ...args], env: extra.env ?? {}, mounts, stdin: extra.stdin ?? null,
    stdout: (c: Uint8Array) => out.push(c), stderr: null, maxOutputBytes: extra.maxOutputBytes, diskQuotaBytes: extra.diskQuotaBytes,
  });

  const run = (host: WasiHost): { exitCode: number; lines: string[] } => {
    out = [];
    const exitCode = host.start(new WebAssembly.Instance(loadFixture('wasi_probe.wasm'), host.imports));
    return { exitCode, lines: Buffer.concat(out).toString('utf8').split('\n').filter(Boolean) };
  };

  it('gives the second run its own args, env, stdin, mounts, read-only set and limits', () => {
    const first = new MountTableBuilder().mount('/m', a, 'rw').readOnlyFile('/m/ro.txt').build();
    const host = new WasiHost(opts(first, ['env', 'X', 'stdin', 'write', '/m/ro.txt', 'x', 'rawopen', '3', 'only-in-a.txt', 'spam', '100'], {
      env: { X: 'one' }, stdin: Buffer.from('first input'), maxOutputBytes: 200,
    }));
    const imports = host.imports;
    const r1 = run(host);
    assert.ok(r1.lines.includes('env OK one'));
    assert.ok(r1.lines.includes('stdin OK first input'));
    assert.ok(r1.lines.includes(`write ${err(ERRNO.EROFS)}`), r1.lines.join('\n'));
    assert.ok(r1.lines.includes('rawopen OK '));
    assert.equal(host.outputLimitExceeded, true);

    const second = new MountTableBuilder().mount('/m', b, 'rw').build();
    host.reset(opts(second, ['env', 'X', 'args', 'stdin', 'write', '/m/ro.txt', 'changed', 'rawopen', '3', 'only-in-a.txt', 'rawopen', '4', 'x'], {
      env: { X: 'two' }, stdin: Buffer.from('second input'),
    }));
    assert.equal(host.imports, imports, 'the imports object is kept');
    assert.equal(host.outputLimitExceeded, false);
    const r2 = run(host);
    assert.equal(r2.exitCode, 0);
    assert.ok(r2.lines.includes('env OK two'), r2.lines.join('\n'));
    assert.ok(r2.lines.includes('args OK argc=14'), r2.lines.join('\n'));
    assert.ok(r2.lines.includes('stdin OK second input'));
    // ro.txt was read-only by path in run 1; in run 2 the set is empty and the mount is b.
    assert.ok(r2.lines.includes('write OK '), r2.lines.join('\n'));
    assert.equal(readFileSync(join(b, 'ro.txt'), 'utf8'), 'changed');
    assert.equal(readFileSync(join(a, 'ro.txt'), 'utf8'), 'read-only in run 1');
    // fd 3 is now b's root: a's file is not reachable, and run 1's other fds are gone.
    assert.ok(r2.lines.includes(`rawopen ${err(ERRNO.ENOENT)}`), r2.lines.join('\n'));
    assert.ok(r2.lines.includes(`rawopen ${err(ERRNO.EBADF)}`), r2.lines.join('\n'));
    host.close();
  });

  it('starts each run with an empty disk quota count', () => {
    const mounts = () => new MountTableBuilder().mount('/m', join(tmp.path, 'q'), 'rw').build();
    mkdirSync(join(tmp.path, 'q'));
    const host = new WasiHost(opts(mounts(), ['write', '/m/f1', 'x'.repeat(50)], { diskQuotaBytes: 80 }));
    assert.ok(run(host).lines.includes('write OK '));
    assert.equal(host.diskUsedBytes, 50);
    host.reset(opts(mounts(), ['write', '/m/f2', 'y'.repeat(50)], { diskQuotaBytes: 200 }));
    assert.equal(host.diskUsedBytes, 50, 'the quota is measured afresh from the mount');
    assert.ok(run(host).lines.includes('write OK '));
    assert.equal(host.diskQuotaExceeded, false);
    host.reset(opts(mounts(), ['args']));
    assert.equal(host.diskUsedBytes, undefined, 'no quota unless the run asks for one');
    host.close();
  });
});
