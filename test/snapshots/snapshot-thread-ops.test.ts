import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import wabtInit from 'wabt';
import { exportMutableGlobals } from '../../src/precompile/export-globals.js';
import { GuestThread } from '../../src/runtime/guest-thread.js';
import { PAGE_SIZE } from '../../src/runtime/memory-pages.js';
import { OwnThreadSlot } from '../../src/runtime/instance-slot.js';
import type { RestorePayload, StartWorkerPayload, WorkerOpName, WorkerOps } from '../../src/runtime/worker-protocol.js';
import { callWorkerOp } from '../../src/services/instances/call-worker-op.js';
import { makeTempDir } from '../support/temp-dir.js';

// Globals nobody exports (precompile exports them as __warren_global_<i>), a data segment in
// page 0 (a fresh instance has it; a restore must clear what the snapshot did not have), and
// writes to page 3 only.
const WAT = `(module
  (memory (export "memory") 2)
  (data (i32.const 16) "initial data")
  (global $a (mut i32) (i32.const 7))
  (global $b (mut i64) (i64.const 1))
  (global $c (mut f64) (f64.const 0.5))
  (func (export "bump")
    (global.set $a (i32.add (global.get $a) (i32.const 1)))
    (global.set $b (i64.mul (global.get $b) (i64.const 1000000)))
    (global.set $c (f64.mul (global.get $c) (f64.const -3)))
    (memory.grow (i32.const 2)) drop
    (i32.store (i32.const 196608) (global.get $a)))
  (func (export "clear_data") (i64.store (i32.const 16) (i64.const 0)) (i32.store (i32.const 24) (i32.const 0)))
  (func (export "a") (result i32) (global.get $a))
  (func (export "b") (result i64) (global.get $b))
  (func (export "c") (result f64) (global.get $c))
  (func (export "page3") (result i32) (i32.load (i32.const 196608)))
  (func (export "data0") (result i32) (i32.load8_u (i32.const 16))))`;

async function compile(): Promise<WebAssembly.Module> {
  const wabt = await wabtInit();
  const parsed = wabt.parseWat('snap.wat', WAT, { mutable_globals: true });
  const { buffer } = parsed.toBinary({});
  parsed.destroy();
  return new WebAssembly.Module(exportMutableGlobals(buffer).wasm);
}

const payload = (module: WebAssembly.Module): StartWorkerPayload => ({
  workerId: 'w_ops',
  modules: { main: module, extensions: [] },
  args: ['snap'],
  env: {},
  mounts: { mounts: [], readOnlyFiles: [] },
  limits: { maxOutputBytes: 1 << 20, memoryMaxBytes: null },
});

// Generous: no op here is about its timeout, and a loaded machine must not trip one.
const call = <O extends WorkerOpName>(t: GuestThread, op: O, p: WorkerOps[O]['payload']) => callWorkerOp(new OwnThreadSlot(t), op, p, { timeoutMs: 10 * 60_000 });
const ret = async (t: GuestThread, name: string) => {
  const result = await call(t, 'invoke', { workerId: 'w_ops', export: name });
  assert.ok('returns' in result);
  return result.returns[0];
};

test('thread ops: a snapshot sends only pages that differ from the given base; restore brings back pages, every global (i32, i64, f64) and clears pages the snapshot lacks', async () => {
  // Guest threads are unref'd: keep the test's event loop alive while they work.
  const keepAlive = setInterval(() => undefined, 1000);
  const module = await compile();
  const tmp = makeTempDir('warren-snap-ops-');
  const a = new GuestThread();
  const b = new GuestThread();
  try {
    await Promise.all([a.ready, b.ready]);
    await call(a, 'start', payload(module));
    for (let i = 0; i < 3; i++) await call(a, 'invoke', { workerId: 'w_ops', export: 'bump' });
    await call(a, 'invoke', { workerId: 'w_ops', export: 'clear_data' });
    const chunks: Uint8Array[] = [];
    const snap = async (base: Record<string, string> | null) =>
      callWorkerOp(new OwnThreadSlot(a), 'snapshot', { workerId: 'w_ops', base }, { timeoutMs: 10 * 60_000, onStdout: (c) => chunks.push(c) });
    const full = await snap(null);
    assert.equal(full.pages, 8);
    assert.deepEqual(full.changed, [3], 'page 0 is zero again (data cleared), pages 1-2 and 4-7 were never written');
    assert.deepEqual([full.slots, full.packPages], [[0], 1]);
    const packBytes = Buffer.concat(chunks);
    assert.equal(packBytes.byteLength, PAGE_SIZE, 'the pack streamed out: one page');
    const names = Object.keys(full.globals).filter((n) => n.startsWith('__warren_global_'));
    assert.equal(names.length, 3, JSON.stringify(full.globals));
    assert.deepEqual(
      names.map((n) => full.globals[n]),
      [{ type: 'number', value: '10' }, { type: 'bigint', value: '1000000000000000000' }, { type: 'number', value: '-13.5' }],
    );
    chunks.length = 0;
    const same = await snap(full.digests);
    assert.deepEqual([same.changed, same.packPages, chunks.length], [[], 0, 0], 'nothing changed since the base');
    assert.deepEqual(same.digests, full.digests);

    // Restore into a fresh instance on another thread from a pack file.
    const pack = join(tmp.path, 'pack');
    writeFileSync(pack, packBytes);
    const placement = { packFiles: [pack], indexes: full.changed, packOf: full.changed.map(() => 0), slotOf: full.slots };
    const restore: RestorePayload = { ...payload(module), pages: full.pages, ...placement, globals: full.globals, wasi: full.wasi };
    const restored = await call(b, 'restore', restore);
    assert.deepEqual(restored, { reactor: true, memoryBytes: 8 * PAGE_SIZE });
    assert.equal(await ret(b, 'a'), 10);
    assert.equal(await ret(b, 'b'), '1000000000000000000');
    assert.equal(await ret(b, 'c'), -13.5);
    assert.equal(await ret(b, 'page3'), 10);
    assert.equal(await ret(b, 'data0'), 0, "the fresh instance's data segment was cleared: the snapshot had no page 0");
    await call(b, 'invoke', { workerId: 'w_ops', export: 'bump' });
    assert.equal(await ret(b, 'a'), 11, 'the restored instance runs on from the restored state');

    const bad = { ...restore, packFiles: [join(tmp.path, 'missing')] };
    await assert.rejects(call(b, 'restore', bad), (err: { code: string }) => err.code === 'E_SNAPSHOT_INVALID');
  } finally {
    await a.terminate();
    await b.terminate();
    tmp.dispose();
    clearInterval(keepAlive);
  }
});
