import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../support/temp-dir.js';
import { MountTableBuilder, WasiHost } from '../../src/wasi/index.js';
import { countingFdBudget } from '../support/counting-fd-budget.js';
import { loadFixture, result, runProbe } from './probe-guest.js';

// The resolver keeps up to 128 directory fds open between calls. Evicting one that the current
// call still holds (the walk's `..` stack, or the first path of link/rename) closed it, and the
// next open got the same fd number for another directory: `..` and the first path then led there.
const CACHED = 128;

describe('the directory fd cache never closes a directory the current call holds', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let data: string;
  const mounts = () => new MountTableBuilder().mount('/data', data, 'rw').build();
  /** Ops that leave d0..d{n-1} in the cache, d0 the longest held. */
  const fill = (n = CACHED) => Array.from({ length: n }, (_, k) => ['stat', `/data/d${k}/f`]).flat();

  before(() => {
    tmp = makeTempDir();
    data = join(tmp.path, 'data');
    for (let k = 0; k < CACHED + 8; k++) {
      mkdirSync(join(data, `d${k}`), { recursive: true });
      writeFileSync(join(data, `d${k}`, 'f'), `f${k}`);
    }
    mkdirSync(join(data, 'd0', 'new', 'sub'), { recursive: true });
    writeFileSync(join(data, 'd0', 'x'), 'top');
    writeFileSync(join(data, 'd0', 'new', 'x'), 'new');
    writeFileSync(join(data, 'd0', 'new', 'sub', 'x'), 'sub');
    let deep = join(data, 'deep');
    for (let k = 0; k < CACHED + 4; k++) deep = join(deep, 'c');
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(data, 'deep', 'x'), 'deep-top');
    writeFileSync(join(deep, 'x'), 'deep-bottom');
  });
  after(() => tmp.dispose());

  it('`..` after the cache is full leads back where the path says', () => {
    const run = runProbe(mounts(), [...fill(), 'rawopen', '3', 'd0/new/sub/../../x', 'rawopen', '3', 'd0/new/sub/../x', 'stat', '/data/d0/new/sub/../../x']);
    assert.equal(result(run, 'rawopen', 0), 'OK');
    assert.equal(result(run, 'rawopen', 1), 'OK');
    const contents = run.lines.filter((l) => l.startsWith('content ')).map((l) => l.slice(8));
    assert.deepEqual(contents, ['top', 'new']);
    assert.match(result(run, 'stat', CACHED), /^OK size=3 /);
  });

  it('a walk deeper than the cache keeps every directory it holds', () => {
    const down = Array.from({ length: CACHED + 4 }, () => 'c').join('/');
    const up = Array.from({ length: CACHED + 4 }, () => '..').join('/');
    const run = runProbe(mounts(), [...fill(8), 'rawopen', '3', `deep/${down}/x`, 'rawopen', '3', `deep/${down}/${up}/x`, 'rawopen', '3', 'd1/f']);
    const contents = run.lines.filter((l) => l.startsWith('content ')).map((l) => l.slice(8));
    assert.deepEqual(contents, ['deep-bottom', 'deep-top', 'f1']);
  });

  it('rename and link resolve their first path to the directory it names, whatever the second one opens', () => {
    writeFileSync(join(data, 'd0', 'a'), 'from-d0');
    writeFileSync(join(data, 'd0', 'h'), 'hard');
    mkdirSync(join(data, 'd1', 'new'), { recursive: true });
    mkdirSync(join(data, 'd2', 'new'), { recursive: true });
    writeFileSync(join(data, 'd1', 'new', 'a'), 'decoy');
    writeFileSync(join(data, 'd2', 'new', 'h'), 'decoy');
    const run = runProbe(mounts(), [...fill(), 'rename', '/data/d0/a', '/data/d1/new/b', ...fill(), 'link', '/data/d0/h', '/data/d2/new/h2']);
    assert.equal(result(run, 'rename'), 'OK');
    assert.equal(result(run, 'link'), 'OK');
    assert.equal(existsSync(join(data, 'd0', 'a')), false);
    assert.equal(readFileSync(join(data, 'd1', 'new', 'b'), 'utf8'), 'from-d0');
    assert.equal(readFileSync(join(data, 'd1', 'new', 'a'), 'utf8'), 'decoy');
    assert.equal(readFileSync(join(data, 'd2', 'new', 'h2'), 'utf8'), 'hard');
    assert.equal(readFileSync(join(data, 'd2', 'new', 'h'), 'utf8'), 'decoy');
  });

  it('holds at most 128 cached fds between calls, and gives them all back on close', () => {
    const { budget, held, most } = countingFdBudget();
    const down = Array.from({ length: CACHED + 4 }, () => 'c').join('/');
    const host = new WasiHost({
      args: ['probe', ...fill(CACHED + 8), 'rawopen', '3', `deep/${down}/x`, 'stat', '/data/d0/f'],
      env: {}, mounts: mounts(), stdout: () => undefined, fdBudget: budget,
    });
    const preopens = held();
    host.start(new WebAssembly.Instance(loadFixture('wasi_probe.wasm'), host.imports));
    // The deep walk held more than 128 at once; the next call trimmed back to the limit.
    assert.ok(most() - preopens > CACHED + 2, `the deep walk pinned ${most() - preopens}`);
    assert.ok(held() - preopens <= CACHED, `${held() - preopens} cached after the walk`);
    host.close();
    assert.equal(held(), 0);
  });
});
