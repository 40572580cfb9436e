import { WarrenError } from '../errors.js';

const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
};
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * The longest duration a timer can wait: Node's setTimeout takes at most 2^31-1 ms (~24.8 days)
 * and fires at once past it, so `timeout = "2562047h"` used to fail every job immediately.
 * Durations are capped at 24 days unless their caller allows longer (a token's TTL).
 */
export const MAX_DURATION_MS = 24 * 86_400_000;
const QUANTITY_RE = /^(\d+(?:\.\d+)?) ?([A-Za-z]*)$/;

export type UnitResult = { ok: true; value: number } | { ok: false; problem: string };

/**
 * `256MiB`, `1GiB`, `512KiB`, `100MB`, `1.5GiB`, or a plain number of bytes (a TOML integer or
 * a digit string). Units are case-sensitive: `mb` vs `Mb` vs `MiB` is exactly the kind of
 * ambiguity a limit must not have. The result is a positive whole number of bytes.
 */
export function readByteSize(value: unknown): UnitResult {
  return readQuantity(value, SIZE_UNITS, 'B', 'a size such as 256MiB, 1GiB, 100MB or a number of bytes', 'bytes');
}

/**
 * Warren's one duration grammar (manifest timeouts, query strings, CLI flags, token TTLs):
 * `30s`, `500ms`, `2m`, `1h`, `30d`, `2w`, `1.5s`, or a plain number of milliseconds; at most
 * `max` (MAX_DURATION_MS unless the caller says otherwise).
 */
export function readDuration(value: unknown, max = MAX_DURATION_MS): UnitResult {
  const r = readQuantity(value, DURATION_UNITS, 'ms', 'a duration such as 30s, 500ms, 2m, 1h, 30d or a number of milliseconds', 'milliseconds');
  if (r.ok && r.value > max) return { ok: false, problem: `must be at most ${formatDuration(max)}, got ${JSON.stringify(String(value))}` };
  return r;
}

/** `max` in the largest unit that divides it (24d, 3w...), for messages. */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's']) {
    if (ms % DURATION_UNITS[unit]! === 0) return `${ms / DURATION_UNITS[unit]!}${unit}`;
  }
  return `${ms}ms`;
}

/** Throws `E_BAD_REQUEST` naming `field` (callers: query strings, CLI flags). */
export function parseByteSize(value: string | number, field: string): number {
  return orThrow(readByteSize(value), field, value);
}

/** Throws `E_BAD_REQUEST` naming `field`. */
export function parseDuration(value: string | number, field: string, max = MAX_DURATION_MS): number {
  return orThrow(readDuration(value, max), field, value);
}

function orThrow(result: UnitResult, field: string, value: unknown): number {
  if (result.ok) return result.value;
  throw new WarrenError('E_BAD_REQUEST', `${field}: ${result.problem}`, { field, value: String(value) });
}

function readQuantity(value: unknown, units: Record<string, number>, plainUnit: string, expected: string, unitWord: string): UnitResult {
  let total: bigint;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) return { ok: false, problem: `must be greater than zero, got ${String(value)}` };
    if (!Number.isInteger(value)) return { ok: false, problem: `must be a whole number of ${unitWord}, got ${String(value)}` };
    total = BigInt(value);
  } else if (typeof value === 'bigint') {
    total = value;
  } else if (typeof value === 'string') {
    const m = QUANTITY_RE.exec(value);
    if (!m) return { ok: false, problem: `must be ${expected}, got ${JSON.stringify(value)}` };
    const unit = m[2] === '' ? plainUnit : m[2]!;
    const multiplier = units[unit];
    if (multiplier === undefined) {
      return { ok: false, problem: `unknown unit ${JSON.stringify(unit)} (use ${Object.keys(units).join(', ')})` };
    }
    // Exact decimal arithmetic: 1.5GiB is whole, 1.5B is not, and no float noise decides which.
    const [whole, fraction = ''] = m[1]!.split('.');
    const scale = 10n ** BigInt(fraction.length);
    const scaled = BigInt(whole! + fraction) * BigInt(multiplier);
    if (scaled % scale !== 0n) return { ok: false, problem: `must be a whole number of ${unitWord}, got ${JSON.stringify(value)}` };
    total = scaled / scale;
  } else {
    return { ok: false, problem: `must be ${expected}` };
  }
  if (total <= 0n) return { ok: false, problem: `must be greater than zero, got ${String(value)}` };
  if (total > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, problem: `is too large: ${String(value)}` };
  return { ok: true, value: Number(total) };
}
