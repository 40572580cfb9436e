import { writeSync } from 'node:fs';
import assert from 'node:assert/strict';
import { isWarrenError, type ErrorCode } from '../../src/errors.js';

/**
 * CI mode by default: fixed seed, run counts that keep test/hostile within its budget.
 * `WARREN_HOSTILE_LONG=1` multiplies everything for local runs; `WARREN_FUZZ_RUNS=N` sets the
 * property-test run count; `WARREN_FUZZ_SEED=N` replays a seed that fast-check printed.
 */
export const LONG = process.env.WARREN_HOSTILE_LONG === '1';
export const SEED = process.env.WARREN_FUZZ_SEED ? Number(process.env.WARREN_FUZZ_SEED) : 0x5eed_0009;

/** Property runs: `ci` in CI mode, 10× in long mode, or exactly WARREN_FUZZ_RUNS. */
export function fuzzRuns(ci: number): number {
  if (process.env.WARREN_FUZZ_RUNS) return Math.max(1, Number(process.env.WARREN_FUZZ_RUNS));
  return LONG ? ci * 10 : ci;
}

/** Options for fc.assert: fixed seed, the run count, no time limits. */
export function fcOptions(ci: number): { seed: number; numRuns: number; endOnFailure: boolean } {
  return { seed: SEED, numRuns: fuzzRuns(ci), endOnFailure: true };
}

/**
 * Counters printed as one summary line per test file at its end, e.g.
 * `# hostile fuzz-parsers: manifest cases=600, filter cases=600`.
 */
export function summary(file: string): Map<string, number> {
  const counts = new Map<string, number>();
  // At process exit, not in a root after() hook: node:test may run that before the last test ends.
  process.once('exit', () => {
    const parts = [...counts].map(([k, v]) => `${k}=${v}`).join(', ');
    writeSync(1, `# hostile ${file} (${LONG ? 'long' : 'ci'} mode, seed ${SEED}): ${parts}\n`);
  });
  return counts;
}

export function bump(counts: Map<string, number>, key: string, by = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + by);
}

/**
 * Runs `fn`: it may succeed; if it throws, the error must be a WarrenError with one of `codes`.
 * Anything else (a TypeError, a RangeError, a plain Error) is a crash, and fails the test.
 */
export async function okOrCode<T>(what: string, codes: readonly ErrorCode[], fn: () => Promise<T> | T): Promise<{ ok: true; value: T } | { ok: false; code: ErrorCode }> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    assert.ok(isWarrenError(err), `${what}: threw a non-Warren error (a crash): ${(err as Error)?.stack ?? String(err)}`);
    assert.ok(codes.includes(err.code), `${what}: unexpected code ${err.code}: ${err.message}`);
    assert.equal(typeof err.message, 'string');
    JSON.stringify(err.toJSON());
    return { ok: false, code: err.code };
  }
}
