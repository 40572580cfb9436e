/**
 * What auth costs a small read route: the same Fastify app and JSON route with and without the
 * auth plugin (token verification with its caches, role check), measured with autocannon
 * (32 connections, 5 s per run, two alternating rounds after a 1 s warm-up) on 127.0.0.1. The servers run in a child process
 * so the load generator does not share their event loop. Target: ratio >= 0.8.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerAuth } from '../src/api/auth/index.js';
import { SqliteRegistry } from '../src/ports/embedded/sqlite-registry.js';
import { TokenService } from '../src/services/tokens/index.js';
import { makeTempDir } from '../test/support/temp-dir.js';
import { writeBenchResult } from './bench-result.js';

const CONNECTIONS = 32;
const SECONDS = 5;

const payload = { fq: 'sh.serval.loudify', versions: ['1.0.0', '1.1.0', '2.0.0'], latest: '2.0.0', description: 'shouts its input' };

function addReadRoute(app: FastifyInstance): void {
  app.get(
    '/v1/components/:fq',
    {
      config: { role: 'shared-reader' },
      schema: {
        response: {
          200: {
            type: 'object',
            properties: { fq: { type: 'string' }, versions: { type: 'array', items: { type: 'string' } }, latest: { type: 'string' }, description: { type: 'string' } },
          },
        },
      },
    },
    async () => payload,
  );
}

/** Child: both servers, on ephemeral ports; prints their URLs and a token as one JSON line. */
async function serve(): Promise<void> {
  const tmp = makeTempDir('warren-bench-auth-');
  const registry = new SqliteRegistry(`${tmp.path}/registry.db`);
  const tokens = await TokenService.open({ dataDir: tmp.path, registry });
  const plain = Fastify({ logger: false });
  addReadRoute(plain);
  const authed = Fastify({ logger: false });
  await registerAuth(authed, { tokens });
  addReadRoute(authed);
  const [baseline, withAuth] = [await plain.listen({ host: '127.0.0.1', port: 0 }), await authed.listen({ host: '127.0.0.1', port: 0 })];
  const { token } = await tokens.issue({ sub: 'bench', role: 'project', namespaces: ['sh.serval'], ttlMs: 3600_000 });
  process.stdout.write(JSON.stringify({ baseline, withAuth, token }) + '\n');
  process.stdin.resume();
  process.stdin.on('end', async () => {
    await plain.close();
    await authed.close();
    await tokens.close();
    await registry.close();
    tmp.dispose();
    process.exit(0);
  });
}

async function load(url: string, token: string, seconds: number): Promise<{ rps: number; p99: number; non2xx: number }> {
  const result = await autocannon({
    url: `${url}/v1/components/sh.serval.loudify`,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
  });
  return { rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx + result.errors };
}

/** Per-call cost of TokenService.verify: a reused token (signature cached) and fresh tokens (Ed25519 each time). */
async function verifyCost(): Promise<{ cachedUs: number; uncachedUs: number }> {
  const tmp = makeTempDir('warren-bench-verify-');
  const registry = new SqliteRegistry(`${tmp.path}/registry.db`);
  const tokens = await TokenService.open({ dataDir: tmp.path, registry });
  try {
    const fresh: string[] = [];
    for (let i = 0; i < 500; i++) fresh.push((await tokens.issue({ sub: `u${i}`, role: 'node', ttlMs: 3600_000 })).token);
    for (const t of fresh.slice(0, 50)) await tokens.verify(t); // warm-up (and revocation cache entries)
    const reused = fresh[0];
    let t0 = performance.now();
    for (let i = 0; i < 20_000; i++) await tokens.verify(reused);
    const cachedUs = ((performance.now() - t0) / 20_000) * 1000;
    t0 = performance.now();
    for (const t of fresh.slice(50)) await tokens.verify(t);
    const uncachedUs = ((performance.now() - t0) / (fresh.length - 50)) * 1000;
    return { cachedUs, uncachedUs };
  } finally {
    await tokens.close();
    await registry.close();
    tmp.dispose();
  }
}

async function main(): Promise<void> {
  const cost = await verifyCost();
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const { baseline, withAuth, token } = JSON.parse(line) as { baseline: string; withAuth: string; token: string };
  await load(baseline, token, 1);
  await load(withAuth, token, 1);
  // Two rounds, alternating, so drift (JIT, CPU clocks, neighbours) falls on both sides.
  const rounds: { without: Awaited<ReturnType<typeof load>>; with: Awaited<ReturnType<typeof load>> }[] = [];
  for (let i = 0; i < 2; i++) {
    const w = await load(baseline, token, SECONDS);
    rounds.push({ without: w, with: await load(withAuth, token, SECONDS) });
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const without = { rps: mean(rounds.map((r) => r.without.rps)), p99: Math.max(...rounds.map((r) => r.without.p99)), non2xx: rounds.reduce((a, r) => a + r.without.non2xx, 0) };
  const withAuthResult = { rps: mean(rounds.map((r) => r.with.rps)), p99: Math.max(...rounds.map((r) => r.with.p99)), non2xx: rounds.reduce((a, r) => a + r.with.non2xx, 0) };
  child.stdin!.end();
  await once(child, 'exit');
  if (without.non2xx || withAuthResult.non2xx) throw new Error(`non-2xx responses: ${without.non2xx} without auth, ${withAuthResult.non2xx} with`);
  const ratio = withAuthResult.rps / without.rps;
  console.log(`without auth: ${without.rps.toFixed(0)} req/s (p99 ${without.p99} ms)`);
  console.log(`with auth:    ${withAuthResult.rps.toFixed(0)} req/s (p99 ${withAuthResult.p99} ms)`);
  console.log(`ratio ${ratio.toFixed(3)} (target >= 0.8)`);
  console.log(`verify: ${cost.cachedUs.toFixed(2)} us with the token cached, ${cost.uncachedUs.toFixed(0)} us for a first sight (signature + registry read)`);
  writeBenchResult('auth', {
    connections: CONNECTIONS,
    seconds: SECONDS,
    rounds: rounds.map((r) => ({ withoutAuthRps: Math.round(r.without.rps), withAuthRps: Math.round(r.with.rps) })),
    withoutAuthRps: Math.round(without.rps),
    withAuthRps: Math.round(withAuthResult.rps),
    withoutAuthP99Ms: without.p99,
    withAuthP99Ms: withAuthResult.p99,
    ratio: Number(ratio.toFixed(3)),
    target: 0.8,
    meetsTarget: ratio >= 0.8,
    verifyCachedUs: Number(cost.cachedUs.toFixed(2)),
    verifyFirstSightUs: Number(cost.uncachedUs.toFixed(1)),
  });
}

if (process.argv[2] === 'serve') await serve();
else await main();
