import { WarrenError } from '../../errors.js';

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** Longest lifetime a token may be given: long-lived credentials should be revocable, not eternal. */
export const MAX_TTL_MS = 3 * 365 * 86_400_000;

/** `30d`, `12h`, `15m`, `90s`, `2w` → milliseconds. */
export function parseTtl(text: string): number {
  const m = /^\s*(\d+)\s*([smhdw])\s*$/.exec(text);
  if (!m) throw new WarrenError('E_BAD_REQUEST', `invalid ttl ${JSON.stringify(text)}: use a number and a unit s, m, h, d or w (e.g. 30d, 12h, 15m)`, { ttl: text });
  const ms = Number(m[1]) * UNIT_MS[m[2]];
  checkTtlMs(ms);
  return ms;
}

export function checkTtlMs(ms: number): void {
  if (!Number.isSafeInteger(ms) || ms <= 0 || ms > MAX_TTL_MS) {
    throw new WarrenError('E_BAD_REQUEST', `token ttl must be between 1 ms and ${MAX_TTL_MS / 86_400_000} days`, { ttlMs: ms });
  }
}
