import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import wabtInit from 'wabt';
import { readAll } from '../../src/cli/api-client.js';
import { isWarrenError } from '../../src/errors.js';
import type { WorkerRecord } from '../../src/records.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { createWorker, pushDir } from './worker-fixtures.js';

/**
 * Issue 21 point 11: `_initialize` is the host's to run, once; and every call of a reactor gets
 * a stdin of its own, from its first byte, whatever the calls before it read or left unread.
 */
const REACTOR = `(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $inits (mut i32) (i32.const 0))
  (func (export "_initialize") (global.set $inits (i32.add (global.get $inits) (i32.const 1))))
  (func (export "inits") (result i32) (global.get $inits))
  ;; Reads up to 2 bytes of stdin; returns count * 65536 + first * 256 + second.
  (func (export "read2") (result i32)
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 2))
    (i32.store16 (i32.const 100) (i32.const 0))
    (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.add (i32.mul (i32.load (i32.const 8)) (i32.const 65536))
      (i32.add (i32.mul (i32.load8_u (i32.const 100)) (i32.const 256)) (i32.load8_u (i32.const 101))))))`;

let server: TestServer;
let worker: WorkerRecord;
const work = makeTempDir('warren-reactor-calls-');

before(async () => {
  server = await startTestServer();
  const wabt = await wabtInit();
  const parsed = wabt.parseWat('reactor.wat', REACTOR);
  const dir = join(work.path, 'reactor');
  mkdirSync(join(dir, 'build'), { recursive: true });
  writeFileSync(join(dir, 'build', 'main.wasm'), parsed.toBinary({}).buffer);
  parsed.destroy();
  writeFileSync(join(dir, 'warren.toml'), 'name = "reactor"\nnamespace = "sh.calls"\nversion = "1.0.0"\nbinary = "build/main.wasm"\n');
  await pushDir(server.client, dir);
  worker = await createWorker(server.client, 'sh.calls.reactor', 'r1');
});
after(async () => {
  await server.close();
  work.dispose();
});

const call = async (exportName: string) => (await server.client.json<{ returns: number[] }>('POST', `/v1/workers/${worker.id}/invoke`, { export: exportName, args: [] })).returns[0]!;

async function read2(stdin: string): Promise<{ count: number; text: string }> {
  const res = await server.client.raw('POST', `/v1/workers/${worker.id}/invoke?stdin=1&export=read2`, Buffer.from(stdin), { 'content-type': 'application/octet-stream' });
  await readAll(res.body);
  const v = (JSON.parse(String(res.headers['x-warren-returns'])) as number[])[0]!;
  const bytes = [(v >> 8) & 0xff, v & 0xff].filter((b) => b !== 0);
  return { count: v >> 16, text: String.fromCharCode(...bytes) };
}

test('_initialize cannot be invoked (nor exports Warren adds); the host ran it once', async () => {
  assert.equal(await call('inits'), 1);
  for (const name of ['_initialize', '__warren_memory']) {
    await assert.rejects(call(name), (e) => isWarrenError(e, 'E_BAD_REQUEST') && e.details.rule === 'reserved-export', name);
  }
  const viaStdin = await server.client.raw('POST', `/v1/workers/${worker.id}/invoke?stdin=1&export=_initialize`, Buffer.alloc(0), { 'content-type': 'application/octet-stream' }).catch((e: unknown) => e);
  assert.ok(isWarrenError(viaStdin, 'E_BAD_REQUEST'));
  assert.equal(await call('inits'), 1, '_initialize ran once, at start');
});

test("each call's stdin starts at its own first byte; what a call left unread is gone; no stdin is EOF", async () => {
  assert.deepEqual(await read2('abcdef'), { count: 2, text: 'ab' });
  assert.deepEqual(await read2('xyz'), { count: 2, text: 'xy' });
  assert.deepEqual(await read2('q'), { count: 1, text: 'q' });
  assert.equal(await call('read2'), 0, 'a JSON call reads EOF');
  assert.deepEqual(await read2('mn'), { count: 2, text: 'mn' }, 'EOF of the call before does not stick');
  // A worker resumed from a snapshot (its WASI state restored) reads its call's stdin the same way.
  await server.client.json('POST', `/v1/workers/${worker.id}/pause`);
  assert.deepEqual(await read2('ok'), { count: 2, text: 'ok' });
  assert.equal(await call('inits'), 1, 'a resume does not run _initialize again');
});
