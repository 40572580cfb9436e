import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { WorkerRecord } from '../../src/records.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { makeTempDir, repoRoot } from '../support/temp-dir.js';
import { createWorker } from '../workers/worker-fixtures.js';
import { pushSnapComponent } from './snapshot-fixtures.js';

function warren(server: TestServer, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin/warren.js'), '--server', server.url, '--token', server.adminToken, ...args],
      { encoding: 'utf8' },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('warren worker pause, resume, commit, snapshots, fork as child processes over real HTTP', async () => {
  const work = makeTempDir('warren-snap-cli-');
  const server = await startTestServer();
  try {
    await pushSnapComponent(server.client, work.path, { name: 'clicount' });
    const w = await createWorker(server.client, 'sh.snap.clicount', 'cli1');
    const run = async (...args: string[]) => {
      const r = await warren(server, args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    assert.equal((await run('worker', 'invoke', w.id, 'increment')).trim(), '1');
    assert.match(await run('worker', 'pause', w.id), new RegExp(`^paused ${w.id} at ${w.id}\\.s\\w+ \\(full, \\d+/\\d+ pages`));
    assert.match(await run('worker', 'show', w.id), /status\s+paused/);
    assert.match(await run('worker', 'resume', w.id), new RegExp(`^resumed ${w.id} from ${w.id}\\.s`));
    assert.match(await run('worker', 'resume', w.id), /is live already/);
    assert.equal((await run('worker', 'invoke', w.id, 'increment')).trim(), '2');
    const committed = await run('worker', 'commit', w.id);
    const snapId = /committed \S+ as (\S+) \(full/.exec(committed)?.[1];
    assert.ok(snapId, committed);
    const list = JSON.parse(await run('worker', 'snapshots', w.id, '--json')) as { snapshots: { id: string; kind: string }[]; lastCommit: string };
    assert.deepEqual([list.snapshots.map((s) => s.id), list.lastCommit], [[snapId], snapId]);
    assert.match(await run('worker', 'snapshots', w.id), new RegExp(`${snapId.replace('.', '\\.')}\\s+commit\\s+full`));
    const forked = JSON.parse(await run('worker', 'fork', w.id, '--name', 'cli1-fork', '--snapshot', snapId, '--json')) as { worker: WorkerRecord };
    assert.equal(forked.worker.status, 'paused');
    assert.equal((await run('worker', 'invoke', forked.worker.id, 'get')).trim(), '2');
    const refused = await warren(server, ['worker', 'fork', w.id, '--name', 'cli1-fork']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /already exists/);
  } finally {
    await server.close();
    work.dispose();
  }
});
