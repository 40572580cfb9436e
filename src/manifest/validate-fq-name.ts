import { WarrenError } from '../errors.js';

const SEGMENT_RE = /^[a-z0-9_]+$/;
export const MAX_FQ_NAME_LENGTH = 128;

/**
 * Why `s` is not a valid fq name (`namespace.name`, lower-case `[a-z0-9_]` segments joined by
 * `.`), or null. `minSegments`/`maxSegments` let the manifest check `name` (exactly one
 * segment) and `namespace` (one or more) with the same rules.
 */
export function fqNameProblem(s: string, minSegments = 2, maxSegments = Infinity): string | null {
  if (s.length === 0) return 'must not be empty';
  if (s.length > MAX_FQ_NAME_LENGTH) return `must be at most ${MAX_FQ_NAME_LENGTH} characters`;
  const segments = s.split('.');
  for (const segment of segments) {
    if (segment === '') return 'must not have empty segments (leading, trailing or double dots)';
    if (!SEGMENT_RE.test(segment)) return `segment ${JSON.stringify(segment)} may only hold lower-case letters, digits and _`;
  }
  if (segments.length < minSegments) {
    return minSegments === 2 ? 'must be namespace.name (at least two segments)' : `must have at least ${minSegments} segments`;
  }
  if (segments.length > maxSegments) return maxSegments === 1 ? 'must be a single segment (no dots)' : `must have at most ${maxSegments} segments`;
  return null;
}

/**
 * Checks a fully qualified component name and returns it unchanged. Fq names end up in
 * registry keys and directory names, so anything path-like (`/`, `..`) is refused here.
 */
export function validateFqName(s: string): string {
  const problem = typeof s === 'string' ? fqNameProblem(s) : 'must be a string';
  if (problem) throw new WarrenError('E_FQ_NAME_INVALID', `invalid fq name ${JSON.stringify(s)}: ${problem}`, { fq: s });
  return s;
}

/** Splits an fq name into namespace (every segment but the last) and name (the last). */
export function splitFqName(fq: string): { namespace: string; name: string } {
  validateFqName(fq);
  const dot = fq.lastIndexOf('.');
  return { namespace: fq.slice(0, dot), name: fq.slice(dot + 1) };
}
