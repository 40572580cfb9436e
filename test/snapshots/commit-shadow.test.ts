import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { createWorker } from '../workers/worker-fixtures.js';
import { commit, pushSnapComponent, value } from './snapshot-fixtures.js';

test('a commit of a living instance hashes only the pages that changed since the last one (its shadow is made after the reply)', async () => {
  const work = makeTempDir('warren-shadow-');
  const server = await startTestServer();
  try {
    const c = server.client;
    await pushSnapComponent(c, work.path, { name: 'mem', wasm: 'snap_memory.reactor.wasm', memory: '64MiB' });
    const w = await createWorker(c, 'sh.snap.mem', 'm1');
    assert.equal(await value(c, w.id, 'fill', [4, 7]), 64, '64 pages of heap');
    const first = await commit(c, w.id);
    assert.ok(first.stats.pages >= 64, `4 MiB touched: ${first.stats.pages} pages`);
    assert.equal(first.stats.pagesHashed, first.stats.pages, 'no shadow yet: every non-zero page is hashed');

    const sum = await value(c, w.id, 'checksum');
    assert.equal(await value(c, w.id, 'dirty', [10]), 7, 'one page in ten changes');
    const second = await commit(c, w.id);
    assert.ok(second.stats.pagesWritten > 0 && second.stats.pagesWritten <= second.stats.pagesHashed);
    assert.ok(
      second.stats.pagesHashed < first.stats.pages / 4,
      `the second commit hashed ${second.stats.pagesHashed} of ${second.stats.pages} pages: only those that differ from the shadow`,
    );
    const third = await commit(c, w.id);
    assert.equal(third.stats.pagesHashed, 0, 'nothing changed since the second commit');
    assert.equal(third.stats.pagesWritten, 0);
    assert.notEqual(await value(c, w.id, 'checksum'), sum, 'memory went on from the commits');
  } finally {
    await server.close();
    work.dispose();
  }
});
