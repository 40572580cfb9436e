/**
 * Cluster: (1) jobs per second (loudify over HTTP, 32 connections) through a 1-node cluster vs
 * a 3-node cluster, all on this one machine: the nodes share its cores, so 3 nodes cannot be
 * 3x here; what it shows is the cost of the bus hop and whether offloading busy nodes to the
 * `warren.jobs` queue group helps or hurts. (2) Placing a worker of a 100 MB component on a
 * node with a cold cache (prefetch over NATS, then hardlinks) vs a warm one.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp } from '../src/api/build-app.js';
import { routePlugins } from '../src/api/route-plugins.js';
import { ApiClient } from '../src/cli/api-client.js';
import { pushComponentDir } from '../src/cli/push-component-dir.js';
import { prefetchComponent } from '../src/services/cluster/prefetch-component.js';
import { getComponentVersion } from '../src/services/components/component-keys.js';
import { WarrenNode } from '../src/services/warren-node.js';
import { createWorker } from '../src/services/workers/create-worker.js';
import { startTestCluster } from '../test/cluster/cluster-harness.js';
import { startNatsServer } from '../test/support/nats-server.js';
import { makeTempDir, repoRoot } from '../test/support/temp-dir.js';
import { writeBenchResult } from './bench-result.js';

const DURATION_S = Number(process.env.BENCH_SECONDS ?? 6);
const CONNECTIONS = 32;
const BODY = 'shout shout let it all out\n'.repeat(4);

interface Load {
  rps: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** autocannon in a child process (it must not share the event loop it measures). */
async function load(url: string, token: string, connections: number): Promise<Load> {
  const opts = {
    url: `${url}/v1/jobs/sh.serval.loudify/run`,
    method: 'POST',
    connections,
    duration: DURATION_S,
    body: BODY,
    headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${token}` },
  };
  const script = `import autocannon from 'autocannon'; const r = await autocannon(${JSON.stringify(opts)}); process.stdout.write(JSON.stringify({ rps: r.requests.average, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx }));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  await once(child, 'exit');
  return JSON.parse(out) as Load;
}

async function jobsThrough(ids: string[], spread: boolean): Promise<Load & { servedBy?: Record<string, number> }> {
  const tmp = makeTempDir('warren-bench-cluster-');
  const cluster = await startTestCluster(tmp.path, ids, { heartbeat: '1s', deadAfter: '5s' });
  try {
    const nodes = [...cluster.nodes.values()];
    const a = nodes[0]!;
    await pushComponentDir(a.client, join(repoRoot, 'examples', 'loudify'));
    for (const n of nodes) await n.client.raw('POST', '/v1/jobs/sh.serval.loudify/run', 'warm', { 'content-type': 'application/octet-stream' });
    const targets = spread ? nodes : [a];
    const per = Math.floor(CONNECTIONS / targets.length);
    const results = await Promise.all(targets.map((n) => load(n.url, a.adminToken, per)));
    return results.reduce((s, r) => ({ rps: s.rps + r.rps, p99: Math.max(s.p99, r.p99), errors: s.errors + r.errors, non2xx: s.non2xx + r.non2xx }));
  } finally {
    await cluster.stopAll();
    tmp.dispose();
  }
}

const oneNode = await jobsThrough(['a'], false);
const threeViaOne = await jobsThrough(['a', 'b', 'c'], false);
const threeSpread = await jobsThrough(['a', 'b', 'c'], true);

/** A counter component with 100 MB of read-only files (10 x 10 MB of random bytes). */
function bigComponentDir(dir: string): string {
  const c = join(dir, 'big');
  mkdirSync(join(c, 'build'), { recursive: true });
  mkdirSync(join(c, 'data'), { recursive: true });
  copyFileSync(join(repoRoot, 'examples', 'counter', 'build', 'counter.reactor.wasm'), join(c, 'build', 'counter.wasm'));
  for (let i = 0; i < 10; i++) writeFileSync(join(c, 'data', `part-${i}.bin`), randomBytes(10 * 1024 * 1024));
  writeFileSync(
    join(c, 'warren.toml'),
    ['name = "big"', 'namespace = "sh.bench"', 'version = "1.0.0"', 'binary = "build/counter.wasm"', '', '[[files]]', 'source = "./data"', 'target = "/data"', 'permissions = "read-only"', '', '[limits]', 'memory = "16MiB"', 'timeout = "5s"', 'disk = "1GiB"', ''].join('\n'),
  );
  return c;
}

async function placement(): Promise<Record<string, number>> {
  const tmp = makeTempDir('warren-bench-placement-');
  const nats = await startNatsServer({ storeDir: join(tmp.path, 'nats') });
  const opened: WarrenNode[] = [];
  try {
    const a = await WarrenNode.open({ dataDir: join(tmp.path, 'a'), nodeId: 'a', nats: [nats.url], jobThreads: 1 });
    opened.push(a);
    const app = await buildApp({ node: a, plugins: routePlugins });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const { token } = await a.tokens.issue({ sub: 'bench', role: 'admin', ttlMs: 3_600_000 });
    await pushComponentDir(new ApiClient({ server: url, token }), bigComponentDir(tmp.path));
    const b = await WarrenNode.open({ dataDir: join(tmp.path, 'b'), nodeId: 'b', nats: [nats.url], jobThreads: 1 });
    opened.push(b);
    const place = async (node: WarrenNode, name: string) => {
      const started = performance.now();
      const record = await getComponentVersion(node.ctx.ports.registry, 'sh.bench.big');
      const pre = await prefetchComponent(node.ctx, record, 8);
      await createWorker(node.ctx, { component: 'sh.bench.big', name });
      return { ms: performance.now() - started, fetchedBytes: pre.bytes };
    };
    const warm = await place(a, 'warm-a');
    const cold = await place(b, 'cold-b');
    const warmAgain = await place(b, 'warm-b');
    await app.close();
    return {
      componentBytes: 100 * 1024 * 1024,
      warmMs: Math.round(warm.ms),
      coldMs: Math.round(cold.ms),
      coldFetchedBytes: cold.fetchedBytes,
      warmAfterColdMs: Math.round(warmAgain.ms),
      coldOverWarm: Number((cold.ms / warm.ms).toFixed(1)),
    };
  } finally {
    for (const n of opened.reverse()) await n.close().catch(() => undefined);
    await nats.stop();
    tmp.dispose();
  }
}

const placed = await placement();

writeBenchResult('cluster', {
  machine: 'one host: every node, NATS server and load generator share its cores',
  connections: CONNECTIONS,
  durationSeconds: DURATION_S,
  jobs: {
    oneNodeRps: Math.round(oneNode.rps),
    threeNodesAllThroughOneRps: Math.round(threeViaOne.rps),
    threeNodesSpreadRps: Math.round(threeSpread.rps),
    threeViaOneOverOne: Number((threeViaOne.rps / oneNode.rps).toFixed(2)),
    threeSpreadOverOne: Number((threeSpread.rps / oneNode.rps).toFixed(2)),
    p99Ms: { oneNode: oneNode.p99, threeViaOne: threeViaOne.p99, threeSpread: threeSpread.p99 },
    errors: oneNode.errors + threeViaOne.errors + threeSpread.errors,
    non2xx: oneNode.non2xx + threeViaOne.non2xx + threeSpread.non2xx,
  },
  placement100MB: placed,
});
process.exit(0);
