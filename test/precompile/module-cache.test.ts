import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { ModuleCache } from '../../src/precompile/module-cache.js';
import { fixturePath } from '../support/temp-dir.js';

const bytesOf = (name: string) => new Uint8Array(readFileSync(fixturePath(name)));

function counting(name: string) {
  const calls = { n: 0 };
  const load = async () => {
    calls.n++;
    await new Promise((r) => setTimeout(r, 5));
    return bytesOf(name);
  };
  return { calls, load };
}

test('one compile per key; concurrent callers share it', async () => {
  const cache = new ModuleCache(1 << 20);
  const { calls, load } = counting('pre_globals.wasm');
  const modules = await Promise.all([cache.get('a', load), cache.get('a', load), cache.get('a', load)]);
  assert.equal(calls.n, 1);
  assert.ok(modules.every((m) => m === modules[0]));
  assert.equal(await cache.get('a', load), modules[0]);
  assert.equal(calls.n, 1);
  assert.deepEqual(cache.stats(), { entries: 1, bytes: bytesOf('pre_globals.wasm').length, hits: 3, compiles: 1, evictions: 0 });
  assert.ok(WebAssembly.Module.exports(modules[0]!).some((e) => e.name === 'bump'));
});

test('LRU eviction on total source bytes', async () => {
  const size = bytesOf('pre_globals.wasm').length;
  const cache = new ModuleCache(size * 2);
  const a = counting('pre_globals.wasm');
  const b = counting('pre_globals.wasm');
  const c = counting('pre_globals.wasm');
  await cache.get('a', a.load);
  await cache.get('b', b.load);
  await cache.get('a', a.load); // a is now the most recent
  await cache.get('c', c.load); // evicts b
  assert.equal(cache.has('a'), true);
  assert.equal(cache.has('b'), false);
  assert.equal(cache.has('c'), true);
  assert.equal(cache.stats().bytes, size * 2);
  await cache.get('b', b.load);
  assert.equal(b.calls.n, 2, 'b was evicted and compiled again');
  assert.equal(cache.has('a'), false, 'a is now the least recent');
});

test('an entry larger than the budget is returned but not kept', async () => {
  const cache = new ModuleCache(10);
  const { calls, load } = counting('pre_globals.wasm');
  assert.ok(await cache.get('big', load));
  assert.equal(cache.has('big'), false);
  await cache.get('big', load);
  assert.equal(calls.n, 2);
  assert.equal(cache.stats().bytes, 0);
});

test('a failed load or compile is not cached', async () => {
  const cache = new ModuleCache(1 << 20);
  await assert.rejects(cache.get('x', async () => new Uint8Array([1, 2, 3])), WebAssembly.CompileError);
  await assert.rejects(cache.get('y', async () => { throw new Error('blob gone'); }), /blob gone/);
  assert.equal(cache.has('x'), false);
  assert.ok(await cache.get('x', async () => bytesOf('pre_globals.wasm')));
});

test('a cached Module can be posted to a worker thread and instantiated there', async () => {
  const cache = new ModuleCache(1 << 20);
  const module = await cache.get('m', async () => bytesOf('pre_memory_max.wasm'));
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.once('message', (m) => { const i = new WebAssembly.Instance(m, {}); parentPort.postMessage(i.exports.grow(1)); });`,
    { eval: true },
  );
  try {
    worker.postMessage(module);
    const grown = await new Promise((resolve, reject) => (worker.once('message', resolve), worker.once('error', reject)));
    assert.equal(grown, 2);
  } finally {
    await worker.terminate();
  }
});
