import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readAll } from '../../src/cli/api-client.js';
import { isWarrenError } from '../../src/errors.js';
import { ServeChild } from '../support/serve-child.js';
import { makeTempDir } from '../support/temp-dir.js';
import { createWorker, pushTestComponent } from '../workers/worker-fixtures.js';

/**
 * Every guest fd is a real fd of the server. A guest that opens files until EMFILE and keeps
 * them, in a server under `ulimit -n 256`, once drove the process to EMFILE, and the next guest
 * thread it started failed to load its script: an unhandled rejection that ended the process.
 */
const OPEN_FILES = 256;
const work = makeTempDir('warren-guest-fds-');
const servers: ServeChild[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.kill()));
  work.dispose();
});

async function start(name: string, args: string[] = []): Promise<ServeChild> {
  const server = await ServeChild.start(`${work.path}/data-${name}`, { openFiles: OPEN_FILES, args });
  servers.push(server);
  // A generous timeout: a loaded machine must not turn 70,000 opens into E_TIMEOUT.
  await pushTestComponent(server.client, work.path, 'sh.hostile', name, '1.0.0', {
    wasm: 'hostile_guest.wasm',
    files: { 'static/hello.txt': 'hello' },
    limits: { memory: '8MiB', timeout: '300s', disk: '1MiB' },
  });
  return server;
}

/** A worker that opens "/" until refused and keeps every fd: how many it got, and the errno that stopped it. */
async function holdFds(server: ServeChild, fq: string, name: string): Promise<{ id: string; count: number; errno: number }> {
  const w = await createWorker(server.client, fq, name, { args: ['fds-hold'] });
  const res = await server.client.raw('POST', `/v1/workers/${w.id}/invoke?stdin=1`, Buffer.alloc(0), { 'content-type': 'application/octet-stream' });
  const out = (await readAll(res.body)).toString('utf8');
  const m = /^open-and-hold ERR (\d+) count=(\d+)$/m.exec(out);
  assert.ok(m, `unexpected output ${JSON.stringify(out)}`);
  return { id: w.id, count: Number(m[2]), errno: Number(m[1]) };
}

async function assertServing(server: ServeChild, fq: string): Promise<void> {
  assert.equal(server.exited, false, `the server exited:\n${server.stderr}`);
  const health = await server.client.raw('GET', '/healthz');
  assert.equal(health.status, 200);
  await readAll(health.body);
  const res = await server.client.raw('POST', `/v1/jobs/${fq}/run?arg=hello`, Buffer.alloc(0), { 'content-type': 'application/octet-stream' });
  assert.equal((await readAll(res.body)).toString('utf8'), 'hello OK still-serving\n');
}

test('guests share one fd budget under ulimit -n 256: each gets EMFILE, the server keeps answering, fds come back when a worker goes', async () => {
  const server = await start('budget');
  const fq = 'sh.hostile.budget';
  const first = await holdFds(server, fq, 'first');
  assert.equal(first.errno, 33, 'EMFILE');
  assert.ok(first.count > 0 && first.count < OPEN_FILES, `the first guest held ${first.count} fds`);
  // The budget is spent: the next guest's opens are EMFILE too, and the node is fine.
  const second = await holdFds(server, fq, 'second');
  assert.equal(second.errno, 33);
  assert.ok(second.count < first.count, `the second guest held ${second.count} fds`);
  await assertServing(server, fq);
  // Stopping the instances gives their fds back to the budget.
  await server.client.json('DELETE', `/v1/workers/${first.id}`);
  await server.client.json('DELETE', `/v1/workers/${second.id}`);
  const third = await holdFds(server, fq, 'third');
  assert.equal(third.errno, 33);
  assert.ok(third.count >= first.count - 8, `after the others were deleted the third guest held ${third.count} fds (the first ${first.count})`);
  await assertServing(server, fq);
});

test('a guest that drives the process itself to EMFILE (budget past the ulimit): calls fail with E_TOO_MANY_FILES, the server never exits', async () => {
  const server = await start('nobudget', ['--guest-fds', '100000']);
  const fq = 'sh.hostile.nobudget';
  const hog = await holdFds(server, fq, 'hog');
  assert.equal(hog.errno, 33);
  assert.ok(hog.count > 0 && hog.count < OPEN_FILES, `the guest held ${hog.count} fds`);
  // The process has no fd left: whatever needs one fails as a call, with a retryable code.
  for (let i = 0; i < 3; i++) {
    try {
      await holdFds(server, fq, `starved-${i}`);
    } catch (err) {
      assert.ok(isWarrenError(err), String(err));
      assert.equal(err.code, 'E_TOO_MANY_FILES', err.message);
      assert.equal(err.details.status, 503);
      // Guest paths ("mount /") may be named; no path of the host (the data dir, the store, the temp dir) may.
      assert.ok(!err.message.includes(work.path) && !/\/(tmp|work|root|home|proc|usr)\b|content-v2|store\//.test(err.message), `no host path in the message: ${err.message}`);
    }
    assert.equal(server.exited, false, `the server exited:\n${server.stderr}`);
  }
  // Once the hog's instance is stopped its fds are closed, and the node works again.
  await server.client.json('DELETE', `/v1/workers/${hog.id}`);
  await assertServing(server, fq);
  const after = await holdFds(server, fq, 'after');
  assert.ok(after.count > 0, `after the hog was deleted a guest held ${after.count} fds`);
  assert.equal(server.exited, false, `the server exited:\n${server.stderr}`);
});
