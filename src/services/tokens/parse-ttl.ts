import { WarrenError } from '../../errors.js';
import { readDuration } from '../../manifest/parse-units.js';

/** Longest lifetime a token may be given: long-lived credentials should be revocable, not eternal. */
export const MAX_TTL_MS = 3 * 365 * 86_400_000;

/**
 * `30d`, `12h`, `15m`, `90s`, `2w` → milliseconds: the grammar of every duration (parse-units),
 * up to MAX_TTL_MS. A unit is required: `--ttl 30` is far more likely to mean days than 30 ms.
 */
export function parseTtl(text: string): number {
  const r = /^\s*\d+(\.\d+)?\s*$/.test(text) ? { ok: false as const, problem: 'needs a unit' } : readDuration(text.trim(), MAX_TTL_MS);
  if (!r.ok) {
    throw new WarrenError('E_BAD_REQUEST', `invalid ttl ${JSON.stringify(text)}: ${r.problem}; use a number and a unit ms, s, m, h, d or w (e.g. 30d, 12h, 15m)`, { ttl: text });
  }
  checkTtlMs(r.value);
  return r.value;
}

export function checkTtlMs(ms: number): void {
  if (!Number.isSafeInteger(ms) || ms <= 0 || ms > MAX_TTL_MS) {
    throw new WarrenError('E_BAD_REQUEST', `token ttl must be between 1 ms and ${MAX_TTL_MS / 86_400_000} days`, { ttlMs: ms });
  }
}
