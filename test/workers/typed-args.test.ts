import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readAll } from '../../src/cli/api-client.js';
import { isWarrenError } from '../../src/errors.js';
import type { WorkerRecord } from '../../src/records.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { createWorker, pushTestComponent } from './worker-fixtures.js';

const CLI = fileURLToPath(new URL('../support/warren-cli-entry.js', import.meta.url));
let server: TestServer;
let id: string;
const work = makeTempDir('warren-typed-args-');

before(async () => {
  server = await startTestServer();
  await pushTestComponent(server.client, work.path, 'typed', 'calc', '1.0.0', { wasm: 'worker_typed.reactor.wasm' });
  id = (await createWorker(server.client, 'typed.calc', 'calc')).id;
});
after(async () => {
  await server.close();
  work.dispose();
});

interface Invoked {
  returns: (number | string)[];
  started: boolean;
}

/** POSTs the JSON text as it is (so a test can send numbers JSON.stringify would round). */
async function invokeText(body: string): Promise<Invoked> {
  const res = await server.client.raw('POST', `/v1/workers/${id}/invoke`, Buffer.from(body), { 'content-type': 'application/json' });
  return JSON.parse((await readAll(res.body)).toString('utf8')) as Invoked;
}
const invoke = (name: string, args: unknown[]) => invokeText(JSON.stringify({ export: name, args }));
const returns = async (name: string, args: unknown[]) => (await invoke(name, args)).returns;

async function refused(p: Promise<unknown>, code: string, status: number, ...pieces: (string | RegExp)[]): Promise<void> {
  const err = await p.then(
    (v) => assert.fail(`expected ${code}, got ${JSON.stringify(v)}`),
    (e: unknown) => e,
  );
  assert.ok(isWarrenError(err), String(err));
  assert.equal(err.code, code, err.message);
  assert.equal(err.details.status, status, err.message);
  for (const piece of pieces) {
    if (typeof piece === 'string') assert.ok(err.message.includes(piece), `${JSON.stringify(piece)} in ${JSON.stringify(err.message)}`);
    else assert.match(err.message, piece);
  }
}

const MIX = 'mix(i64, f64, i32) -> i64';

test('i64 takes a decimal string or a safe integer, exactly; i64 results come back as decimal strings', async () => {
  // 9007199254740993 is 2^53 + 1: as a JSON number it would already be ...992.
  assert.deepEqual(await returns('mix', ['9007199254740993', 2.5, -1]), ['9007199254740997']);
  assert.deepEqual(await returns('mix', [7, 2.5, -1]), ['11'], 'a JSON number for an i64 (was 500 E_INTERNAL)');
  assert.deepEqual(await returns('mix', ['-7', '0.5', '3']), ['-3']);
  assert.deepEqual(await returns('echo64', [9007199254740991]), ['9007199254740991']);
  assert.deepEqual(await returns('echo64', [-9007199254740991]), ['-9007199254740991']);
  assert.deepEqual(await returns('echo64', ['-9223372036854775808']), ['-9223372036854775808']);
  assert.deepEqual(await returns('echo64', ['9223372036854775807']), ['9223372036854775807']);
  // Unsigned range too, as wasm's JS API wraps it: 2^64 - 1 is -1.
  assert.deepEqual(await returns('echo64', ['18446744073709551615']), ['-1']);
  assert.deepEqual(await returns('split', ['4294967298']), [1, 2], 'multi-value results');
});

test('i32 takes integers from -2^31 to 2^32 - 1; f32 and f64 take numbers, NaN and Infinity', async () => {
  assert.deepEqual(await returns('echo32', [-2147483648]), [-2147483648]);
  assert.deepEqual(await returns('echo32', [4294967295]), [-1]);
  assert.deepEqual(await returns('echo32', ['42']), [42]);
  assert.deepEqual(await returns('half', [3]), [1.5]);
  assert.deepEqual(await returns('half', ['Infinity']), ['Infinity'], 'non-finite results come back as strings');
  assert.deepEqual(await returns('div', [1, 0]), ['Infinity']);
  assert.deepEqual(await returns('div', [-1, 0]), ['-Infinity']);
  assert.deepEqual(await returns('div', [0, 0]), ['NaN']);
  assert.deepEqual(await returns('div', ['NaN', 1]), ['NaN']);
  assert.deepEqual(await returns('div', [1, 4]), [0.25]);
  assert.deepEqual(await returns('reset', []), []);
});

test('wrong arity or type: 400 E_BAD_ARGS naming the signature; the guest never sees the call and the worker lives on', async () => {
  const good = await invoke('mix', ['100', 1, 1]);
  assert.deepEqual(good.returns, ['103']);
  const callsBefore = await returns('calls', []);

  await refused(invoke('mix', [1, 2]), 'E_BAD_ARGS', 400, MIX, 'takes 3 arguments, got 2');
  await refused(invoke('mix', []), 'E_BAD_ARGS', 400, MIX, 'got 0');
  await refused(invoke('mix', [1, 2, 3, 4]), 'E_BAD_ARGS', 400, MIX, 'got 4');
  await refused(invoke('mix', [7.5, 1, 1]), 'E_BAD_ARGS', 400, MIX, 'argument 1 (i64)');
  // A JSON number past 2^53 has lost digits before it arrives: refused, never rounded.
  await refused(invokeText('{"export":"mix","args":[9007199254740993,1,1]}'), 'E_BAD_ARGS', 400, MIX, 'argument 1 (i64)', 'decimal string');
  await refused(invoke('mix', ['1.5', 1, 1]), 'E_BAD_ARGS', 400, MIX, 'argument 1');
  await refused(invoke('mix', ['abc', 1, 1]), 'E_BAD_ARGS', 400, MIX, 'argument 1', '"abc"');
  await refused(invoke('mix', ['0x10', 1, 1]), 'E_BAD_ARGS', 400, MIX, 'argument 1');
  await refused(invoke('mix', [true, 1, 1]), 'E_BAD_ARGS', 400, MIX, 'argument 1');
  await refused(invoke('mix', [null, 1, 1]), 'E_BAD_ARGS', 400, MIX, 'argument 1');
  await refused(invoke('mix', [[1], 1, 1]), 'E_BAD_ARGS', 400, MIX, 'argument 1');
  await refused(invoke('mix', [1, 'x', 1]), 'E_BAD_ARGS', 400, MIX, 'argument 2 (f64)');
  await refused(invoke('mix', [1, {}, 1]), 'E_BAD_ARGS', 400, MIX, 'argument 2 (f64)');
  await refused(invoke('mix', [1, 1, 4294967296]), 'E_BAD_ARGS', 400, MIX, 'argument 3 (i32)');
  await refused(invoke('mix', [1, 1, -2147483649]), 'E_BAD_ARGS', 400, MIX, 'argument 3 (i32)');
  await refused(invoke('mix', [1, 1, 1.5]), 'E_BAD_ARGS', 400, MIX, 'argument 3 (i32)');
  await refused(invoke('echo64', ['18446744073709551616']), 'E_BAD_ARGS', 400, 'echo64(i64) -> i64');
  await refused(invoke('echo64', ['-9223372036854775809']), 'E_BAD_ARGS', 400, 'echo64(i64) -> i64');
  await refused(invoke('half', []), 'E_BAD_ARGS', 400, 'half(f32) -> f32');
  await refused(invoke('split', [1, 2]), 'E_BAD_ARGS', 400, 'split(i64) -> (i32, i32)');
  await refused(invoke('reset', [1]), 'E_BAD_ARGS', 400, 'reset() takes 0 arguments, got 1');
  await refused(invokeText('{"export":"mix","args":"1 2 3"}'), 'E_BAD_ARGS', 400, MIX, '"args" must be an array');
  await refused(invoke('mix', Array.from({ length: 1000 }, () => 1)), 'E_BAD_ARGS', 400, MIX, 'got 1000');
  // The stdin convention naming an export with parameters: no arguments to give it.
  await refused(server.client.raw('POST', `/v1/workers/${id}/invoke?stdin=1&export=mix`, Buffer.alloc(0), { 'content-type': 'application/octet-stream' }), 'E_BAD_ARGS', 400, MIX);
  await refused(invoke('nope', []), 'E_NOT_FOUND', 404, '"nope"');

  // Nothing reached the guest, nothing failed: same instance, same globals, worker idle.
  assert.deepEqual(await returns('calls', []), callsBefore);
  assert.deepEqual(await returns('last', []), ['103']);
  const w = await server.client.json<WorkerRecord>('GET', `/v1/workers/${id}`);
  assert.equal(w.status, 'idle');
  assert.equal(w.error, undefined);
  const next = await invoke('mix', ['1', 0, 0]);
  assert.deepEqual(next.returns, ['1']);
  assert.equal(next.started, false, 'the instance was never dropped');
});

function warren(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, '--server', server.url, '--token', server.adminToken, ...args], { encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('warren worker invoke ID mix 9007199254740993 2.5 -1 keeps every digit; bad arguments exit 2 naming the signature', { timeout: 10 * 60_000 }, async () => {
  const ok = await warren(['worker', 'invoke', id, 'mix', '9007199254740993', '2.5', '-1']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, '9007199254740997\n');
  const json = await warren(['--json', 'worker', 'invoke', id, 'div', '1', '0']);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual((JSON.parse(json.stdout) as Invoked).returns, ['Infinity']);
  const half = await warren(['worker', 'invoke', id, 'half', '-3']);
  assert.equal(half.stdout, '-1.5\n', half.stderr);
  const bad = await warren(['worker', 'invoke', id, 'mix', '1', '2']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /E_BAD_ARGS/);
  assert.ok(bad.stderr.includes(MIX), bad.stderr);
  const word = await warren(['worker', 'invoke', id, 'mix', 'one', '2', '3']);
  assert.equal(word.code, 2);
  assert.ok(word.stderr.includes(`${MIX}: argument 1 (i64)`), word.stderr);
});
