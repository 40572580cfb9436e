import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utimesSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { WarrenNode } from '../../src/services/warren-node.js';
import { makeTempDir } from '../support/temp-dir.js';

test('the GC timer sweeps an old unreachable blob in the background and keeps a young one', async () => {
  const tmp = makeTempDir('warren-gc-timer-');
  const node = await WarrenNode.open({ dataDir: tmp.path, gcIntervalMs: 50, jobThreads: 1 });
  try {
    const blobs = node.ctx.ports.blobs;
    const old = await blobs.put('nobody refers to me');
    const young = await blobs.put('written a moment ago');
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync((await blobs.path(old.integrity))!, hourAgo, hourAgo);
    // Until a background run has swept it; the deadline (far past what a loaded machine takes,
    // well inside the 10 min grace that keeps `young`) only stops a regression from hanging.
    const deadline = Date.now() + 5 * 60_000;
    while (Date.now() < deadline && (await blobs.has(old.integrity))) await sleep(50);
    assert.equal(await blobs.has(old.integrity), false, 'old unreachable blob swept');
    assert.equal(await blobs.has(young.integrity), true, 'grace period keeps a young blob');
  } finally {
    await node.close();
    tmp.dispose();
  }
});
