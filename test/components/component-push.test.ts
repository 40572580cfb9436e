import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { ComponentVersionRecord } from '../../src/records.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { makeTempDir, repoRoot } from '../support/temp-dir.js';
import { pushComponentWasm } from './component-fixtures.js';

let server: TestServer;
const work = makeTempDir('warren-components-push-');

before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.close();
  work.dispose();
});

function warren(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(repoRoot, 'bin/warren.js'), '--server', server.url, '--token', server.adminToken, ...args], { encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('a component is pushed with its WIT world: exports with signatures over HTTP (JSON) and in `component show`', async () => {
  const res = await pushComponentWasm(server.client, work.path, 'comp', 'typed', 'typed.component.wasm');
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const got = await server.client.json<ComponentVersionRecord>('GET', '/v1/components/comp.typed/versions/1.0.0');
  const world = got.world!;
  assert.deepEqual(world.imports, []);
  assert.deepEqual(world.exports.map((e) => [e.kind, e.name]), [
    ['function', 'hello'],
    ['interface', 'warren:fixtures/inventory'],
    ['interface', 'warren:fixtures/kinds'],
  ]);
  const inventory = world.exports.find((e) => e.name === 'warren:fixtures/inventory');
  assert.ok(inventory?.kind === 'interface');
  assert.deepEqual(inventory.functions.map((f) => f.signature), [
    'add: func(name: string, count: u32) -> u32',
    'items: func() -> list<item>',
    'take: func(name: string, count: u32) -> result<u32, string>',
    'clear: func()',
  ]);
  assert.deepEqual(inventory.types.item, { kind: 'record', fields: [{ name: 'name', type: { kind: 'primitive', name: 'string' } }, { name: 'count', type: { kind: 'primitive', name: 'u32' } }] });

  const shown = await warren(['component', 'show', 'comp.typed@1.0.0']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /^ {4}hello: func\(who: string\) -> string$/m);
  assert.match(shown.stdout, /^ {4}warren:fixtures\/kinds$/m);
  assert.match(shown.stdout, /^ {6}variant shape \{ circle\(f64\), rect\(tuple<f64, f64>\), point \}$/m);
  assert.match(shown.stdout, /^ {6}divide: func\(a: s64, b: s64\) -> result<s64, string>$/m);
});

test('a command component made from a C guest shows its WASI imports and wasi:cli/run', async () => {
  const res = await pushComponentWasm(server.client, work.path, 'comp', 'probe', 'wasi_probe.component.wasm');
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const world = (res.body as ComponentVersionRecord).world!;
  assert.ok(world.imports.some((i) => i.startsWith('wasi:filesystem/types@0.2.')), world.imports.join(' '));
  assert.deepEqual(world.exports.map((e) => e.name.replace(/@.*/, '')), ['wasi:cli/run']);
});

test('a component importing what Warren cannot satisfy is refused at push, naming every such import', async () => {
  const { parse } = (await import('@bytecodealliance/jco-transpile/wasm-tools')) as { parse(wat: string): Promise<Uint8Array> };
  const wasm = await parse(`(component
    (import "wasi:cli/stdout@0.2.3" (instance))
    (import "wasi:sockets/tcp@0.2.3" (instance))
    (import "acme:db/query@1.0.0" (instance (export "run" (func (param "q" string) (result string)))))
  )`);
  const res = await pushComponentWasm(server.client, work.path, 'comp', 'netty', Buffer.from(wasm));
  assert.equal(res.status, 400);
  const error = (res.body as { error: { code: string; message: string; details: { imports: string[] } } }).error;
  assert.equal(error.code, 'E_IMPORT_UNSUPPORTED');
  assert.deepEqual(error.details.imports, ['wasi:sockets/tcp@0.2.3', 'acme:db/query@1.0.0']);
  assert.match(error.message, /wasi:sockets\/tcp@0\.2\.3 \(wasi:sockets is refused by default: components get no network access\)/);
  assert.match(error.message, /acme:db\/query@1\.0\.0/);
  await assert.rejects(server.client.raw('GET', '/v1/components/comp.netty'), (e: Error & { details?: { status?: number } }) => e.details?.status === 404);
});

test('a corrupt component is E_WASM_INVALID, not a 500', async () => {
  const res = await pushComponentWasm(server.client, work.path, 'comp', 'broken', Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x07, 0x05, 0x01]));
  assert.equal(res.status, 400);
  assert.equal((res.body as { error: { code: string } }).error.code, 'E_WASM_INVALID');
});
