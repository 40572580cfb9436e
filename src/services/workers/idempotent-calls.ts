import { WarrenError } from '../../errors.js';
import type { RecordedCall } from '../../records.js';

/** A key is remembered this long after its call: a retry later than that runs the call again. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60_000;
/** At most this many keys per worker are kept (the oldest go first), bounding the worker record. */
export const MAX_RECORDED_CALLS = 256;

const KEY_RE = /^[\x21-\x7e]{1,200}$/;

/** An `Idempotency-Key`: 1-200 visible ASCII characters (as IETF's draft header and Golem's keys allow). */
export function checkIdempotencyKey(key: string): string {
  if (!KEY_RE.test(key)) {
    throw new WarrenError('E_BAD_REQUEST', 'an idempotency key is 1 to 200 visible ASCII characters (no spaces)', { idempotencyKey: key.slice(0, 200) });
  }
  return key;
}

const fresh = (call: RecordedCall, now: number, windowMs: number) => now - Date.parse(call.at) < windowMs;

/** The recorded result of `key`, if it is within the window. */
export function findRecordedCall(calls: Record<string, RecordedCall> | undefined, key: string, now = Date.now(), windowMs = IDEMPOTENCY_WINDOW_MS): RecordedCall | null {
  const call = calls?.[key];
  return call && fresh(call, now, windowMs) ? call : null;
}

/** `calls` plus `key`, without expired keys and within MAX_RECORDED_CALLS. */
export function withRecordedCall(
  calls: Record<string, RecordedCall> | undefined,
  key: string,
  call: RecordedCall,
  now = Date.now(),
  windowMs = IDEMPOTENCY_WINDOW_MS,
): Record<string, RecordedCall> {
  const kept = Object.entries(calls ?? {}).filter(([k, c]) => k !== key && fresh(c, now, windowMs));
  kept.sort((a, b) => Date.parse(a[1].at) - Date.parse(b[1].at));
  return Object.fromEntries([...kept.slice(Math.max(0, kept.length - (MAX_RECORDED_CALLS - 1))), [key, call]]);
}
