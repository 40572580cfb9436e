import semver from 'semver';
import { WarrenError } from '../errors.js';

/**
 * Why `s` is not an exact semver version, or null. The version is written out as given, so a
 * form that `semver` would silently rewrite (`v1.2.0`, `=1.2.0`, ` 1.2.0`, build metadata
 * `+b1`, which semver ignores for equality) is refused: two spellings must never name two
 * registry keys for what semver calls the same version.
 */
export function versionProblem(s: string): string | null {
  if (s.length > 256) return 'must be at most 256 characters';
  const valid = semver.valid(s);
  if (valid === null) return 'must be a semver version such as 1.2.0';
  if (valid !== s) return `must be written exactly as ${JSON.stringify(valid)} (no "v" prefix, spaces or build metadata)`;
  return null;
}

/** Checks an exact semver version and returns it. */
export function validateVersion(s: string): string {
  const problem = typeof s === 'string' ? versionProblem(s) : 'must be a string';
  if (problem) throw new WarrenError('E_VERSION_INVALID', `invalid version ${JSON.stringify(s)}: ${problem}`, { version: s });
  return s;
}
