import { test } from 'node:test';
import assert from 'node:assert/strict';
import wabtInit from 'wabt';
import { isWarrenError } from '../../src/errors.js';
import { formatSignature, readExportSignatures } from '../../src/precompile/read-export-signatures.js';
import { coerceExportArgs } from '../../src/runtime/coerce-export-args.js';

const WAT = `(module
  (type $unused (func (param f32 f32 f32)))
  (import "env" "log" (func $log (param i32 i64)))
  (func $add (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "pair") (param i64) (result i32 i64) (i32.const 1) (local.get 0))
  (func (export "vec") (param v128) (result i32) (i32.const 0))
  (export "add" (func $add))
  (export "log" (func $log))
  (export "again" (func $add))
  (memory (export "memory") 1)
)`;

async function build(): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const parsed = wabt.parseWat('sig.wat', WAT, { multi_value: true, simd: true });
  const { buffer } = parsed.toBinary({});
  parsed.destroy();
  return buffer;
}

test('export signatures: imported and defined functions, multi-value, v128, one function under two names', async () => {
  const sigs = readExportSignatures(await build());
  assert.deepEqual(
    [...sigs].map(([name, sig]) => formatSignature(name, sig)),
    ['pair(i64) -> (i32, i64)', 'vec(v128) -> i32', 'add(i32, i32) -> i32', 'log(i32, i64)', 'again(i32, i32) -> i32'],
  );
  assert.equal(sigs.has('memory'), false, 'only functions');
});

test('a v128 parameter cannot be given from JSON: E_BAD_ARGS, not a TypeError', async () => {
  const sig = readExportSignatures(await build()).get('vec')!;
  assert.throws(
    () => coerceExportArgs('vec', sig, [0]),
    (e) => isWarrenError(e, 'E_BAD_ARGS') && e.message.startsWith('vec(v128) -> i32: argument 1 (v128)'),
  );
  assert.deepEqual(coerceExportArgs('pair', readExportSignatures(await build()).get('pair')!, ['-5']), [-5n]);
});
