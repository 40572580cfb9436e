/**
 * Jobs per second: loudify over HTTP with 32 concurrent clients, against a bare Fastify route
 * that upper-cases its body, measured in the same run, in alternating rounds (the ratio is the
 * median round's). Target: ≥ 0.3x the bare route.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import Fastify from 'fastify';
import { join } from 'node:path';
import { pushComponentDir } from '../src/cli/push-component-dir.js';
import { startTestServer } from '../test/support/start-server.js';
import { repoRoot } from '../test/support/temp-dir.js';
import { writeBenchResult } from './bench-result.js';

const DURATION_S = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Both servers first take this much of the same load, not measured: JIT and caches warm up alike. */
const WARMUP_S = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const BODY = 'shout shout let it all out\n'.repeat(4);

/**
 * The load generator runs in a child process for both measurements, so it does not compete
 * with the server for the event loop (the same for the baseline and for Warren).
 */
async function load(url: string, headers: Record<string, string>, duration = DURATION_S): Promise<{ rps: number; p99: number; errors: number; non2xx: number }> {
  const opts = { url, method: 'POST', connections: 32, duration, body: BODY, headers: { 'content-type': 'application/octet-stream', ...headers } };
  const script = `import autocannon from 'autocannon'; const r = await autocannon(${JSON.stringify(opts)}); process.stdout.write(JSON.stringify({ rps: r.requests.average, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx }));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  await once(child, 'exit');
  return JSON.parse(out);
}

const bare = Fastify();
bare.addContentTypeParser('*', { parseAs: 'buffer' }, (_r, b, done) => done(null, b));
bare.post('/upper', async (req) => (req.body as Buffer).toString('utf8').toUpperCase());
const bareUrl = `${await bare.listen({ host: '127.0.0.1', port: 0 })}/upper`;

const server = await startTestServer({ jobThreads: undefined });
await pushComponentDir(server.client, join(repoRoot, 'examples/loudify'));
// one warm-up run compiles and caches the module
await server.client.raw('POST', '/v1/jobs/sh.serval.loudify/run', Buffer.from('warm'), { 'content-type': 'application/octet-stream' });
const jobUrl = `${server.url}/v1/jobs/sh.serval.loudify/run`;
const auth = { authorization: `Bearer ${server.adminToken}` };

if (WARMUP_S > 0) {
  await load(bareUrl, {}, WARMUP_S);
  await load(jobUrl, auth, WARMUP_S);
}
// Rounds alternate the two, so a change in the machine's speed (other tenants of the host) hits
// both alike; each round gives a ratio and the median round is the result.
const rounds: { bareRps: number; warrenRps: number; ratio: number; warrenP99Ms: number; errors: number }[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const baseline = await load(bareUrl, {});
  const warren = await load(jobUrl, auth);
  rounds.push({
    bareRps: Math.round(baseline.rps),
    warrenRps: Math.round(warren.rps),
    ratio: Number((warren.rps / baseline.rps).toFixed(3)),
    warrenP99Ms: warren.p99,
    errors: warren.errors + warren.non2xx,
  });
  console.log(`round ${i + 1}: bare ${Math.round(baseline.rps)}/s, warren ${Math.round(warren.rps)}/s, ratio ${(warren.rps / baseline.rps).toFixed(3)}`);
}
const lanes = server.node.ctx.pool.lanes?.stats;
await server.close();
await bare.close();

const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)]!;
writeBenchResult('jobs', {
  connections: 32,
  durationSeconds: DURATION_S,
  warmupSeconds: WARMUP_S,
  bareFastifyRps: median.bareRps,
  warrenJobsPerSecond: median.warrenRps,
  ratio: median.ratio,
  target: '>= 0.3',
  rounds,
  warrenErrors: rounds.reduce((n, r) => n + r.errors, 0),
  meanJobsPerThreadMessage: lanes && lanes.batches > 0 ? Number((lanes.jobs / lanes.batches).toFixed(1)) : null,
});
