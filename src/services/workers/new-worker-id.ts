import { randomBytes } from 'node:crypto';

/**
 * Worker ids are opaque but sort by creation time (`w_` + 10 base-36 digits of milliseconds +
 * 8 hex of randomness), so listing by id is a stable creation order a cursor can resume from.
 */
export function newWorkerId(now: number = Date.now()): string {
  return `w_${now.toString(36).padStart(10, '0')}${randomBytes(4).toString('hex')}`;
}

export const WORKER_ID_PATTERN = '^w_[0-9a-z]{10}[0-9a-f]{8}$';

export function isWorkerId(id: string): boolean {
  return new RegExp(WORKER_ID_PATTERN).test(id);
}
