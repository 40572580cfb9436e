import { WarrenError } from '../errors.js';

/**
 * Bounds on a manifest, checked before any rule: a manifest is a small text file, and what the
 * server does with it (parse, validate, authorize) must stay small whatever a caller sends.
 * A directory source is one [[files]] entry however many files it holds: 10,000 entries is far
 * past any real component.
 */
export const MANIFEST_LIMITS = {
  /** Bytes of warren.toml, in every form it reaches the server (multipart field or file part). */
  maxBytes: 1024 * 1024,
  maxFiles: 10_000,
  maxVolumes: 256,
  maxExtensions: 256,
  maxEnv: 4096,
} as const;

export function manifestTooLarge(limit: number, size?: number): WarrenError {
  const what = size === undefined ? 'more than' : `${size} bytes, more than`;
  return new WarrenError('E_MANIFEST_TOO_LARGE', `the manifest is ${what} the limit of ${limit} bytes`, { rule: 'max-manifest-bytes', limit, ...(size === undefined ? {} : { size }) });
}

/** Refuses a parsed manifest object with more entries in a list than its limit, before validating any. */
export function checkManifestEntryCounts(obj: unknown): void {
  if (typeof obj !== 'object' || obj === null) return;
  const m = obj as Record<string, unknown>;
  const lists: [string, unknown, number][] = [
    ['files', m.files, MANIFEST_LIMITS.maxFiles],
    ['volumes', m.volumes, MANIFEST_LIMITS.maxVolumes],
    ['required_extensions', m.required_extensions, MANIFEST_LIMITS.maxExtensions],
  ];
  for (const [field, value, limit] of lists) {
    if (Array.isArray(value) && value.length > limit) throw tooMany(field, value.length, limit);
  }
  const env = m.env;
  if (typeof env === 'object' && env !== null && !Array.isArray(env)) {
    let count = 0;
    for (const _ in env) if (++count > MANIFEST_LIMITS.maxEnv) throw tooMany('env', Object.keys(env).length, MANIFEST_LIMITS.maxEnv);
  }
}

function tooMany(field: string, count: number, limit: number): WarrenError {
  return new WarrenError('E_MANIFEST_TOO_MANY_ENTRIES', `the manifest has ${count} ${field} entries, more than the limit of ${limit}`, { field, count, limit });
}
