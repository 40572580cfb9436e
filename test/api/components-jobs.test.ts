import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readAll } from '../../src/cli/api-client.js';
import { multipartBody, type UploadPart } from '../../src/cli/multipart-upload.js';
import { pushComponentDir } from '../../src/cli/push-component-dir.js';
import { isWarrenError, type WarrenError } from '../../src/errors.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { fixturePath, makeTempDir, repoRoot } from '../support/temp-dir.js';

const run = promisify(execFile);
let server: TestServer;
const work = makeTempDir('warren-e2e-');

before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.close();
  work.dispose();
});

/** A component dir in the temp area: a manifest text and a module file copied from `wasm`. */
function componentDir(name: string, manifest: string, wasm?: string | Buffer): string {
  const dir = join(work.path, name);
  mkdirSync(join(dir, 'build'), { recursive: true });
  writeFileSync(join(dir, 'warren.toml'), manifest);
  if (typeof wasm === 'string') cpSync(wasm, join(dir, 'build', 'main.wasm'));
  else if (wasm) writeFileSync(join(dir, 'build', 'main.wasm'), wasm);
  return dir;
}

const manifestFor = (ns: string, name: string, version = '1.0.0', extra = '') =>
  `name = "${name}"\nnamespace = "${ns}"\nversion = "${version}"\nbinary = "build/main.wasm"\n${extra}`;

async function runJob(fq: string, input: string | Buffer, query = ''): Promise<{ status: number; stdout: Buffer; exitCode: number; stderr: string }> {
  const res = await server.client.raw('POST', `/v1/jobs/${fq}/run${query}`, Buffer.from(input), { 'content-type': 'application/octet-stream' });
  const stdout = await readAll(res.body);
  const t = res.trailers();
  return {
    status: res.status,
    stdout,
    exitCode: Number(t['x-warren-exit-code'] ?? res.headers['x-warren-exit-code']),
    stderr: decodeURIComponent(String(t['x-warren-stderr'] ?? res.headers['x-warren-stderr'] ?? '')),
  };
}

async function registryKeys(): Promise<string[]> {
  return (await server.node.ctx.ports.registry.list('component/')).map((e) => e.key);
}

/** Expects the promise to fail with `code`, and the registry's component records to be unchanged. */
async function refusedWithNothingStored(p: Promise<unknown>, code: string, status: number): Promise<WarrenError> {
  const beforeKeys = await registryKeys();
  let caught: unknown;
  await p.catch((e) => {
    caught = e;
  });
  assert.ok(isWarrenError(caught), `expected a WarrenError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.details.status, status);
  assert.deepEqual(await registryKeys(), beforeKeys, 'nothing stored');
  return caught;
}

test('push loudify → list → run: stdout is the input upper-cased', async () => {
  const pushed = await pushComponentDir(server.client, join(repoRoot, 'examples/loudify'));
  assert.equal(pushed.created, true);
  assert.equal(pushed.record.fq, 'sh.serval.loudify');
  const { components } = await server.client.json<{ components: { fq: string; latest: string }[] }>('GET', '/v1/components');
  assert.deepEqual(
    components.filter((c) => c.fq === 'sh.serval.loudify').map((c) => c.latest),
    ['1.0.0'],
  );
  const out = await runJob('sh.serval.loudify', 'let it all out\n');
  assert.equal(out.stdout.toString(), 'LET IT ALL OUT\n');
  assert.equal(out.exitCode, 0);
  // same bytes again: idempotent
  assert.equal((await pushComponentDir(server.client, join(repoRoot, 'examples/loudify'))).created, false);
  // the module route serves the exact bytes
  const mod = await server.client.raw('GET', '/v1/components/sh.serval.loudify/versions/1.0.0/module');
  assert.deepEqual(await readAll(mod.body), readFileSync(join(repoRoot, 'examples/loudify/build/loudify.wasm')));
});

test('a large output streams back with the exit code in trailers', async () => {
  await pushComponentDir(server.client, join(repoRoot, 'examples/loudify'));
  const input = Buffer.alloc(5 * 1024 * 1024, 'abc\n');
  const out = await runJob('sh.serval.loudify', input);
  assert.equal(out.stdout.length, input.length);
  assert.equal(out.stdout.subarray(0, 8).toString(), 'ABC\nABC\n');
  assert.equal(out.exitCode, 0);
});

test('env and args reach the guest; stderr and a non-zero exit come back', async () => {
  await pushComponentDir(server.client, join(repoRoot, 'examples/greeter'));
  const hi = await runJob('sh.warren.greeter', '', '?arg=Ada&env=GREETING%3DAhoy');
  assert.equal(hi.stdout.toString(), 'Ahoy, Ada!\n');
  const dflt = await runJob('sh.warren.greeter', '', '?arg=Bob');
  assert.equal(dflt.stdout.toString(), 'Hello, Bob!\n', 'manifest [env] default');
  const none = await runJob('sh.warren.greeter', '');
  assert.equal(none.exitCode, 3);
  assert.match(none.stderr, /usage: greeter NAME/);
  const json = await server.client.raw('POST', '/v1/jobs/sh.warren.greeter/run?format=json&arg=Cy', Buffer.alloc(0), { 'content-type': 'application/octet-stream' });
  const body = JSON.parse((await readAll(json.body)).toString());
  assert.equal(body.stdout, 'Hello, Cy!\n');
  assert.equal(body.exitCode, 0);
});

test('different bytes under a pushed version are 409 E_VERSION_EXISTS', async () => {
  const dir = componentDir('v-exists', manifestFor('t.exists', 'loud'), join(repoRoot, 'examples/loudify/build/loudify.wasm'));
  await pushComponentDir(server.client, dir);
  writeFileSync(join(dir, 'build/main.wasm'), readFileSync(join(repoRoot, 'examples/greeter/build/greeter.wasm')));
  await refusedWithNothingStored(pushComponentDir(server.client, dir), 'E_VERSION_EXISTS', 409);
});

async function pushParts(parts: UploadPart[]): Promise<unknown> {
  const { body, headers } = await multipartBody(parts);
  return server.client.raw('POST', '/v1/components', body, headers);
}

test('bad pushes each get a stable code and store nothing', async () => {
  const loud = join(repoRoot, 'examples/loudify/build/loudify.wasm');
  const syntax = await refusedWithNothingStored(
    pushParts([
      { name: 'manifest', text: 'name = "x"\nnamespace = "t.bad"\nversion = \n' },
      { name: 'module', file: loud, filename: 'm.wasm', contentType: 'application/wasm' },
    ]),
    'E_MANIFEST_SYNTAX',
    400,
  );
  assert.match(syntax.message, /line 3/);
  await refusedWithNothingStored(pushParts([{ name: 'manifest', text: manifestFor('t.bad', 'nomodule') }]), 'E_MODULE_MISSING', 400);
  const notWasm = join(work.path, 'not.wasm');
  writeFileSync(notWasm, 'this is text, not wasm');
  await refusedWithNothingStored(
    pushParts([
      { name: 'manifest', text: manifestFor('t.bad', 'notwasm') },
      { name: 'module', file: notWasm, filename: 'm.wasm', contentType: 'application/wasm' },
    ]),
    'E_WASM_INVALID',
    400,
  );
  const invalid = join(work.path, 'invalid.wasm');
  // Right magic and version, then a type section that claims more bytes than exist.
  writeFileSync(invalid, Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x7f, 0x01]));
  await refusedWithNothingStored(
    pushParts([
      { name: 'manifest', text: manifestFor('t.bad', 'invalid') },
      { name: 'module', file: invalid, filename: 'm.wasm', contentType: 'application/wasm' },
    ]),
    'E_WASM_INVALID',
    400,
  );
  const keys = await registryKeys();
  const dotdot = await pushParts([
    { name: 'manifest', text: manifestFor('../etc', 'passwd') },
    { name: 'module', file: loud, filename: 'm.wasm', contentType: 'application/wasm' },
  ]).catch((e) => e);
  assert.ok(isWarrenError(dotdot) && ['E_FQ_NAME_INVALID', 'E_MANIFEST_INVALID'].includes(dotdot.code), String(dotdot));
  assert.match(dotdot.message, /namespace/);
  assert.deepEqual(await registryKeys(), keys);
  // CLI-side check: the binary the manifest names does not exist.
  const dir = componentDir('missing-binary', manifestFor('t.bad', 'missing'));
  await assert.rejects(pushComponentDir(server.client, dir), (e) => isWarrenError(e, 'E_MODULE_MISSING'));
});

test('an unknown component or version is 404 E_NOT_FOUND', async () => {
  await assert.rejects(runJob('sh.serval.nothing', ''), (e) => isWarrenError(e, 'E_NOT_FOUND') && e.details.status === 404);
  await pushComponentDir(server.client, join(repoRoot, 'examples/loudify'));
  await assert.rejects(runJob('sh.serval.loudify', '', '?version=9.9.9'), (e) => isWarrenError(e, 'E_NOT_FOUND') && /9\.9\.9/.test(e.message));
});

test('a job that traps, loops past its timeout, or grows memory past its limit: stable codes, node stays healthy', async () => {
  await pushComponentDir(server.client, componentDir('trap', manifestFor('t.faults', 'trap'), fixturePath('job_trap.wasm')));
  await pushComponentDir(server.client, componentDir('loop', manifestFor('t.faults', 'loop', '1.0.0', '[limits]\ntimeout = "300ms"\n'), fixturePath('job_loop.wasm')));
  await pushComponentDir(server.client, componentDir('grow', manifestFor('t.faults', 'grow', '1.0.0', '[limits]\nmemory = "2MiB"\n'), fixturePath('job_grow.wasm')));
  await assert.rejects(runJob('t.faults.trap', ''), (e) => isWarrenError(e, 'E_TRAP') && e.details.status === 422 && /unreachable/.test(e.message));
  await assert.rejects(runJob('t.faults.loop', ''), (e) => isWarrenError(e, 'E_TIMEOUT') && e.details.status === 408);
  // the request may ask for less time, never for more than the manifest
  await assert.rejects(runJob('t.faults.loop', '', '?timeout=1h'), (e) => isWarrenError(e, 'E_TIMEOUT') && e.details.timeoutMs === 300);
  await assert.rejects(runJob('t.faults.grow', ''), (e) => isWarrenError(e, 'E_MEMORY_LIMIT') && e.details.limitBytes === 2 * 1024 * 1024);
  await assert.rejects(runJob('t.faults.grow', '', '?memory=1MiB'), (e) => isWarrenError(e, 'E_MEMORY_LIMIT') && e.details.limitBytes === 1024 * 1024);
  // the node still serves
  await pushComponentDir(server.client, join(repoRoot, 'examples/loudify'));
  assert.equal((await runJob('sh.serval.loudify', 'still here')).stdout.toString(), 'STILL HERE');
  const metrics = await readAll((await server.client.raw('GET', '/metrics')).body);
  assert.match(metrics.toString(), /warren_job_failures_total\{code="E_TIMEOUT"\} 2/);
  assert.match(metrics.toString(), /warren_jobs_queued 0\n/, 'nothing left queued on the job threads');
  if (server.node.ctx.pool.lanes) assert.match(metrics.toString(), /warren_job_thread_messages [1-9]/);
});

test('the CLI as a child process: push, ls --json, run', async () => {
  const env = { ...process.env, WARREN_SERVER: server.url, WARREN_TOKEN: server.adminToken };
  const bin = join(repoRoot, 'bin/warren.js');
  const push = await run(process.execPath, [bin, 'component', 'push', join(repoRoot, 'examples/loudify'), '--json'], { env });
  assert.equal(JSON.parse(push.stdout).fq, 'sh.serval.loudify');
  const ls = await run(process.execPath, [bin, 'component', 'ls', '--json'], { env });
  assert.ok(JSON.parse(ls.stdout).some((c: { fq: string }) => c.fq === 'sh.serval.loudify'));
  const input = join(work.path, 'input.txt');
  writeFileSync(input, 'cli says hi\n');
  const out = await run(process.execPath, [bin, 'run', 'sh.serval.loudify', input], { env });
  assert.equal(out.stdout, 'CLI SAYS HI\n');
  const bad = await run(process.execPath, [bin, 'run', 'sh.serval.nope', input], { env }).catch((e) => e);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /E_NOT_FOUND/);
});

test('openapi.json documents every route', async () => {
  const doc = await server.client.json<{ paths: Record<string, unknown> }>('GET', '/openapi.json');
  for (const p of ['/v1/components', '/v1/components/{fq}', '/v1/jobs/{fq}/run', '/healthz', '/v1/blobs/{integrity}']) assert.ok(doc.paths[p], `missing ${p}`);
});
