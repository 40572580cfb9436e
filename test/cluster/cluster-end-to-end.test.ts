import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient, readAll } from '../../src/cli/api-client.js';
import { pushComponentDir } from '../../src/cli/push-component-dir.js';
import { isWarrenError } from '../../src/errors.js';
import type { WorkerRecord } from '../../src/records.js';
import { makeTempDir, repoRoot } from '../support/temp-dir.js';
import { eventually, startTestCluster, whileUnavailable, type TestCluster } from './cluster-harness.js';

interface NodesView {
  mode: string;
  nodes: { id: string; alive: boolean; url: string }[];
}

async function invoke(client: ApiClient, id: string, exportName = 'increment'): Promise<{ returns: number[]; servedBy: string | undefined }> {
  const res = await client.raw('POST', `/v1/workers/${id}/invoke`, JSON.stringify({ export: exportName, args: [] }), { 'content-type': 'application/json' });
  const body = JSON.parse((await readAll(res.body)).toString('utf8')) as { returns: number[] };
  return { returns: body.returns, servedBy: res.headers['x-warren-node'] as string | undefined };
}

async function runLoudify(client: ApiClient, text: string): Promise<string> {
  const res = await client.raw('POST', '/v1/jobs/sh.serval.loudify/run', text, { 'content-type': 'application/octet-stream' });
  return (await readAll(res.body)).toString('utf8');
}

/**
 * Three Warren nodes (child processes) on a 3-server NATS cluster: any node serves any request.
 * Heartbeats every second; a node is dead after 12 s: far longer than a NATS client's reconnect
 * to another server or a JetStream leader election, and than a live node's stall on a loaded
 * machine, so neither looks like losing a node (a false failover would move workers the test
 * says never move). The kill step waits for those 12 s to pass, so it is not made larger; every
 * wait for the failover itself is minutes (the harness's defaults).
 */
test('cluster: push on A, job through B, placement through C, invoke through A, shared tokens, NATS server loss, node loss', async (t) => {
  const tmp = makeTempDir('warren-cluster-e2e-');
  let cluster: TestCluster | null = null;
  try {
    cluster = await startTestCluster(tmp.path, ['a', 'b', 'c'], { heartbeat: '1s', deadAfter: '12s' });
    const c = cluster;
    const A = c.nodes.get('a')!;
    const B = c.nodes.get('b')!;
    const C = c.nodes.get('c')!;

    await t.test('every node sees the three members alive', async () => {
      const view = await eventually('three live nodes with URLs', async () => {
        const v = await B.client.json<NodesView>('GET', '/v1/cluster/nodes');
        return v.nodes.filter((n) => n.alive && n.url).length === 3 ? v : undefined;
      });
      assert.equal(view.mode, 'cluster');
      assert.deepEqual(view.nodes.map((n) => n.id), ['a', 'b', 'c']);
    });

    await t.test('push on A, run a job through B (blobs come through the cluster store)', async () => {
      await pushComponentDir(A.client, join(repoRoot, 'examples', 'loudify'));
      await pushComponentDir(A.client, join(repoRoot, 'examples', 'counter'));
      assert.equal(await runLoudify(B.client, 'let it all out'), 'LET IT ALL OUT');
    });

    await t.test('a token issued by A works on B and C; a project token may not list nodes', async () => {
      const issued = await A.client.json<{ token: string }>('POST', '/v1/tokens', { role: 'project', namespaces: ['sh.serval'], ttl: '1h' });
      const onB = new ApiClient({ server: B.url, token: issued.token });
      assert.equal(await runLoudify(onB, 'shared key'), 'SHARED KEY');
      const who = await new ApiClient({ server: C.url, token: issued.token }).json<{ role: string }>('GET', '/v1/whoami');
      assert.equal(who.role, 'project');
      await assert.rejects(onB.json('GET', '/v1/cluster/nodes'), (e) => isWarrenError(e, 'E_FORBIDDEN'));
    });

    const workers: WorkerRecord[] = [];
    await t.test('three creates through C land on three different nodes (least loaded first)', async () => {
      for (const name of ['one', 'two', 'three']) {
        workers.push(await C.client.json<WorkerRecord>('POST', '/v1/workers', { component: 'sh.warren.counter', name }));
      }
      assert.deepEqual(workers.map((w) => w.node).sort(), ['a', 'b', 'c'], `placements: ${workers.map((w) => `${w.name}@${w.node}`).join(', ')}`);
    });

    await t.test('invoke every worker through A: routed to its node, state kept between calls', async () => {
      for (const w of workers) {
        const first = await invoke(A.client, w.id);
        assert.deepEqual(first.returns, [1]);
        assert.equal(first.servedBy ?? 'a', w.node, `worker ${w.name} answered by its node`);
        assert.deepEqual((await invoke(B.client, w.id)).returns, [2]);
      }
      const res = await C.client.raw('GET', `/v1/workers/${workers[0]!.id}/file-contents?path=/state/count.txt`);
      const files = (await readAll(res.body)).toString('utf8');
      assert.match(String(files), /1\n2\n/, 'file reads are routed to the worker node too');
    });

    await t.test('a body over the bus limit to another node is refused with a clear E_BAD_REQUEST', async () => {
      const remote = workers.find((w) => w.node !== 'a')!;
      const big = Buffer.alloc(900 * 1024, 0x61);
      await assert.rejects(A.client.raw('POST', `/v1/workers/${remote.id}/invoke?stdin=1`, big, { 'content-type': 'application/octet-stream' }), (e) => {
        assert.ok(isWarrenError(e, 'E_BAD_REQUEST'), String(e));
        assert.match(e.message, /over the \d+ bytes a node forwards over the cluster bus/);
        return true;
      });
    });

    const count = new Map(workers.map((w) => [w.id, 2]));
    await t.test('SIGKILL of the node holding a worker: it answers again through another node, from its last commit', async () => {
      const victim = workers.find((w) => w.node === 'b')!;
      await A.client.json('POST', `/v1/workers/${victim.id}/commit`, {});
      assert.deepEqual((await invoke(A.client, victim.id)).returns, [3], 'a call after the commit: lost with the node');
      await B.kill();
      // The proxy retries while b is dead and until a survivor has claimed the worker (b's
      // heartbeat must first be 12 s old): minutes, the harness's default, bound the wait.
      const after = await whileUnavailable(() => invoke(A.client, victim.id));
      assert.notEqual(after.servedBy, 'b');
      assert.deepEqual(after.returns, [3], 'resumed from its last commit (count 2), not from the lost call');
      const record = await C.client.json<WorkerRecord>('GET', `/v1/workers/${victim.id}`);
      assert.ok(record.node === 'a' || record.node === 'c', `claimed by a survivor, got ${record.node}`);
      assert.equal(record.status, 'idle');
      assert.deepEqual((await invoke(C.client, victim.id)).returns, [4]);
      count.set(victim.id, 4);
      const view = await A.client.json<NodesView>('GET', '/v1/cluster/nodes');
      assert.equal(view.nodes.find((n) => n.id === 'b')?.alive, false);
      for (const w of workers.filter((w) => w.id !== victim.id)) {
        assert.equal((await A.client.json<WorkerRecord>('GET', `/v1/workers/${w.id}`)).node, w.node, 'the other workers never moved');
      }
      const placedOn = c.nodes.get(record.node)!.dataDir;
      assert.ok(existsSync(join(placedOn, 'workers', victim.id, 'root', 'state', 'count.txt')), "the worker's own files placed on the new node");
      assert.ok(readdirSync(join(placedOn, 'trees')).some((t) => existsSync(join(placedOn, 'trees', t, 'static', 'greeting.txt'))), "and its version's read-only tree");
    });

    await t.test('SIGKILL of one NATS server: push, run and invoke keep working', async () => {
      await c.nats.servers[2]!.kill();
      await whileUnavailable(() => pushComponentDir(A.client, join(repoRoot, 'examples', 'greeter')));
      assert.equal(await whileUnavailable(() => runLoudify(C.client, 'still here')), 'STILL HERE');
      for (const w of workers) {
        const r = await whileUnavailable(() => invoke(A.client, w.id));
        const want = count.get(w.id)! + 1;
        assert.deepEqual(r.returns, [want], `worker ${w.name} kept its instance (no false failover)\n${c.logs()}`);
      }
    });
  } finally {
    await cluster?.stopAll();
    tmp.dispose();
  }
});
