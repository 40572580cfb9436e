import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { isWarrenError } from '../../src/errors.js';
import type { WorkerRecord } from '../../src/records.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { makeTempDir, repoRoot } from '../support/temp-dir.js';
import { pushComponentWasm } from './component-fixtures.js';

let server: TestServer;
const work = makeTempDir('warren-components-worker-');
let worker: WorkerRecord;

before(async () => {
  server = await startTestServer();
  const pushed = await pushComponentWasm(server.client, work.path, 'comp', 'typed', 'typed.component.wasm');
  assert.equal(pushed.status, 201, JSON.stringify(pushed.body));
  worker = await server.client.json<WorkerRecord>('POST', '/v1/workers', { component: 'comp.typed', name: 'shop' });
});
after(async () => {
  await server.close();
  work.dispose();
});

const call = (fn: string, args: unknown[], id = worker.id) =>
  server.client.json<{ result: unknown; started: boolean }>('POST', `/v1/workers/${id}/invoke`, { function: fn, args });

test('a component worker keeps its instance between calls: a JS Map in the guest grows call after call', async () => {
  assert.deepEqual((await call('add', ['apple', 3])).result, 3);
  assert.deepEqual((await call('add', ['apple', 2])).result, 5);
  assert.deepEqual((await call('warren:fixtures/inventory#add', ['pear', 1])).result, 2 - 1);
  const items = await call('items', []);
  assert.equal(items.started, false);
  assert.deepEqual(items.result, [{ name: 'apple', count: 5 }, { name: 'pear', count: 1 }]);
  assert.deepEqual((await call('take', ['apple', 2])).result, { ok: 3 });
  assert.deepEqual((await call('take', ['apple', 10])).result, { err: 'only 3 apple' });
  assert.equal((await call('clear', [])).result, null);
  assert.deepEqual((await call('items', [])).result, []);
});

test('typed round trips of every WIT value kind, as JSON', async () => {
  const sample = {
    flag: true, tiny: -128, octet: 255, short: -32768, half: 65535, int: -2147483648, uint: 4294967295,
    long: '-9223372036854775808', ulong: '18446744073709551615', single: 1.5, double: -0.25, letter: 'é', text: 'hello \u{1F600}',
  };
  assert.deepEqual((await call('echo-sample', [sample])).result, sample, 'record of every primitive (s64/u64 as decimal strings)');
  assert.deepEqual((await call('mirror-shape', [{ tag: 'rect', value: [2, 3] }])).result, { tag: 'rect', value: [3, 2] }, 'variant with a tuple payload');
  assert.deepEqual((await call('mirror-shape', [{ tag: 'point' }])).result, { tag: 'point' }, 'variant case without payload');
  assert.equal((await call('area', [{ tag: 'rect', value: [2, 4] }])).result, 8);
  assert.equal((await call('next-color', ['blue'])).result, 'red', 'enum');
  assert.deepEqual((await call('toggle', [['read']])).result, ['write', 'exec'], 'flags as the array of set flags');
  assert.equal((await call('measure', [null])).result, null, 'option none');
  assert.equal((await call('measure', ['four'])).result, 4, 'option some');
  assert.deepEqual((await call('divide', ['7', '2'])).result, { ok: '3' }, 'result ok with s64');
  assert.deepEqual((await call('divide', ['7', '0'])).result, { err: 'division by zero' }, 'result err');
  assert.deepEqual((await call('invert', [[0, 1, 255]])).result, [255, 254, 0], 'list<u8>');
  assert.deepEqual((await call('pairs', [[['a', 1], ['b', 2]]])).result, [3, 'a,b'], 'list of tuples, tuple result');
  assert.equal((await call('nested', [null])).result, null, 'option<option<u32>>: none');
  assert.deepEqual((await call('nested', [{ some: null }])).result, { some: null }, 'some(none)');
  assert.deepEqual((await call('nested', [{ some: 7 }])).result, { some: 7 }, 'some(some(7))');
  assert.equal((await call('hello', ['warren'])).result, 'hello warren', 'a world-level function');
});

test('a mistyped call is 400 E_BAD_ARGS naming the signature, and changes nothing', async () => {
  const refused = async (fn: string, args: unknown, why: RegExp) => {
    const err = await server.client.json('POST', `/v1/workers/${worker.id}/invoke`, { function: fn, args }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(isWarrenError(err), `${fn} ${JSON.stringify(args)} was accepted`);
    assert.equal(err.code, 'E_BAD_ARGS');
    assert.equal(err.details.status, 400);
    assert.match(err.message, why);
  };
  await refused('add', [3, 'apple'], /argument name: expected a string, got 3; expected add: func\(name: string, count: u32\) -> u32/);
  await refused('add', ['apple'], /2 arguments expected, got 1/);
  await refused('add', ['apple', -1], /-1 is out of range for u32/);
  await refused('add', ['apple', 4294967296], /out of range for u32/);
  await refused('next-color', ['purple'], /expected one of red, green, blue/);
  await refused('echo-sample', [{ flag: true }], /missing field tiny/);
  await refused('mirror-shape', [{ tag: 'hexagon' }], /expected \{"tag"/);
  await refused('toggle', [['fly']], /flags from read, write, exec/);
  await refused('divide', ['1.5', '2'], /expected an integer for s64/);
  assert.deepEqual((await call('items', [])).result, []);
  const missing = await server.client.json('POST', `/v1/workers/${worker.id}/invoke`, { function: 'nope', args: [] }).catch((e: unknown) => e);
  assert.ok(isWarrenError(missing) && missing.code === 'E_NOT_FOUND', String(missing));
});

function warren(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [join(repoRoot, 'bin/warren.js'), '--server', server.url, '--token', server.adminToken, ...args], { encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(stdin);
  });
}

test('warren worker invoke takes WAVE and prints WAVE', async () => {
  const cli = await server.client.json<WorkerRecord>('POST', '/v1/workers', { component: 'comp.typed', name: 'cli-shop' });
  const inv = (text: string) => warren(['worker', 'invoke', cli.id, text]);
  assert.deepEqual(await inv('add("kiwi", 2)'), { code: 0, stdout: '2\n', stderr: '' });
  assert.equal((await inv('items()')).stdout, '[{name: "kiwi", count: 2}]\n');
  assert.equal((await inv('take("kiwi", 5)')).stdout, 'err("only 2 kiwi")\n');
  assert.equal((await inv('warren:fixtures/kinds#mirror-shape(rect((2, 3.5)))')).stdout, 'rect((3.5, 2))\n');
  assert.equal((await inv("echo-sample({flag: false, tiny: -1, octet: 2, short: 3, half: 4, int: 5, uint: 6, long: -7, ulong: 18446744073709551615, single: nan, double: -inf, letter: '\\u{1F600}', text: \"a\\\"b\"})")).stdout,
    "{flag: false, tiny: -1, octet: 2, short: 3, half: 4, int: 5, uint: 6, long: -7, ulong: 18446744073709551615, single: nan, double: -inf, letter: '\u{1F600}', text: \"a\\\"b\"}\n");
  assert.equal((await inv('toggle({read, exec})')).stdout, '{write}\n');
  assert.equal((await inv('nested(some(none))')).stdout, 'some(none)\n');
  assert.equal((await inv('measure(none)')).stdout, 'none\n');
  const bad = await inv('add(3, "apple")');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /expected a "string".*add: func\(name: string, count: u32\) -> u32|WAVE: expected a "string"/);
});

test('a command component worker: the stdin/stdout convention, its memory kept between calls', async () => {
  const pushed = await pushComponentWasm(server.client, work.path, 'comp', 'echo', 'worker_echo.component.wasm');
  assert.equal(pushed.status, 201, JSON.stringify(pushed.body));
  const echo = await server.client.json<WorkerRecord>('POST', '/v1/workers', { component: 'comp.echo', name: 'echo' });
  const first = await warren(['worker', 'invoke', echo.id, '--stdin', '-'], 'hello');
  assert.equal(first.stdout, 'HELLO');
  assert.match(first.stderr, /call 1/);
  const second = await warren(['worker', 'invoke', echo.id, '--stdin', '-'], 'again');
  assert.equal(second.stdout, 'AGAIN');
  assert.match(second.stderr, /call 2/, 'the instance (and its C static) lived on between calls');
});

test('a component worker with data-scope snapshots pauses and resumes: durable dirs kept, memory starts afresh', async () => {
  const pushed = await pushComponentWasm(server.client, work.path, 'comp', 'typeddata', 'typed.component.wasm', '[snapshots]\non_pause = "data"\non_commit = "data"\n');
  assert.equal(pushed.status, 201, JSON.stringify(pushed.body));
  const w = await server.client.json<WorkerRecord>('POST', '/v1/workers', { component: 'comp.typeddata', name: 'data-shop' });
  assert.equal((await call('add', ['plum', 4], w.id)).result, 4);
  await server.client.json('POST', `/v1/workers/${w.id}/pause`, {});
  assert.equal((await server.client.json<WorkerRecord>('GET', `/v1/workers/${w.id}`)).status, 'paused');
  const after = await call('items', [], w.id);
  assert.deepEqual(after.result, [], 'scope data keeps no memory: the instance starts afresh');
});

test('a component written as component text (typed_add, the bench\'s bare typed call) takes a string and a u32 through the canonical ABI', async () => {
  const pushed = await pushComponentWasm(server.client, work.path, 'comp', 'adder', 'typed_add.component.wasm');
  assert.equal(pushed.status, 201, JSON.stringify(pushed.body));
  const adder = await server.client.json<WorkerRecord>('POST', '/v1/workers', { component: 'comp.adder', name: 'adder' });
  assert.equal((await call('add', ['apple', 1], adder.id)).result, 6);
  assert.equal((await call('add', ['pêche', 10], adder.id)).result, 16, 'the length is of the UTF-8 bytes lowered into the guest');
});
