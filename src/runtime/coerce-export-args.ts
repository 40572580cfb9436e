import { WarrenError } from '../errors.js';
import { formatSignature, type FunctionSignature } from '../precompile/read-export-signatures.js';

/** What a numeric wasm parameter takes in JS: a number, or a BigInt for i64. */
export type WasmArg = number | bigint;

const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '+Infinity': Infinity, '-Infinity': -Infinity };

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 32 - 1;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 64n - 1n;

const EXPECTED: Record<string, string> = {
  i32: 'an integer from -2147483648 to 4294967295 (a number or a decimal string)',
  i64: 'a decimal string, or a safe integer (|n| ≤ 2^53 - 1), from -2^63 to 2^64 - 1',
  f32: 'a number (or a decimal string, "NaN", "Infinity", "-Infinity")',
  f64: 'a number (or a decimal string, "NaN", "Infinity", "-Infinity")',
};

/**
 * Turns JSON arguments into the values an export's parameters take, or refuses them with
 * E_BAD_ARGS naming the export's signature. Runs before a call reaches the guest's thread: a
 * wrong argument must never become a TypeError inside the thread (a 500 that also drops the
 * instance). Both signed and unsigned ranges are accepted for integers, as wasm's own JS API
 * does (4294967295 is -1 as an i32).
 */
export function coerceExportArgs(exportName: string, sig: FunctionSignature, args: unknown): WasmArg[] {
  const signature = formatSignature(exportName, sig);
  if (!Array.isArray(args)) {
    throw new WarrenError('E_BAD_ARGS', `${signature}: "args" must be an array, got ${describe(args)}`, { export: exportName, signature });
  }
  if (args.length !== sig.params.length) {
    throw new WarrenError(
      'E_BAD_ARGS',
      `${signature} takes ${sig.params.length} argument${sig.params.length === 1 ? '' : 's'}, got ${args.length}`,
      { export: exportName, signature, expected: sig.params.length, got: args.length },
    );
  }
  return sig.params.map((type, i) => {
    const value = coerceOne(type, args[i]);
    if (value !== null) return value;
    const expected = EXPECTED[type] ?? `a ${type}, which cannot be passed from outside the guest`;
    throw new WarrenError('E_BAD_ARGS', `${signature}: argument ${i + 1} (${type}) must be ${expected}, got ${describe(args[i])}`, {
      export: exportName,
      signature,
      index: i,
      type,
    });
  });
}

function coerceOne(type: string, v: unknown): WasmArg | null {
  switch (type) {
    case 'i32': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && FLOAT_RE.test(v) ? Number(v) : NaN;
      return Number.isInteger(n) && n >= I32_MIN && n <= I32_MAX ? n : null;
    }
    case 'i64': {
      let n: bigint;
      if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v);
      else if (typeof v === 'string' && INT_RE.test(v)) n = BigInt(v);
      else return null;
      return n >= I64_MIN && n <= I64_MAX ? n : null;
    }
    case 'f32':
    case 'f64':
      if (typeof v === 'number') return v;
      if (typeof v === 'string' && FLOAT_RE.test(v)) return Number(v);
      if (typeof v === 'string' && Object.hasOwn(NON_FINITE, v)) return NON_FINITE[v]!;
      return null;
    default:
      return null;
  }
}

function describe(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}
