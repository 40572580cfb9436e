import { WarrenError } from '../errors.js';
import { validateFqName } from './validate-fq-name.js';
import { validateVersion } from './validate-version.js';

export interface ComponentRef {
  fq: string;
  namespace: string;
  name: string;
  /** Exact semver version, or null when the ref names no version (`ns.name`: the latest). */
  version: string | null;
}

/** Parses `ns.name@1.2.0` or `ns.name` (no version). */
export function parseComponentRef(ref: string): ComponentRef {
  if (typeof ref !== 'string') throw new WarrenError('E_BAD_REQUEST', 'component ref must be a string');
  const at = ref.indexOf('@');
  const fq = validateFqName(at === -1 ? ref : ref.slice(0, at));
  const version = at === -1 ? null : validateVersion(ref.slice(at + 1));
  const dot = fq.lastIndexOf('.');
  return { fq, namespace: fq.slice(0, dot), name: fq.slice(dot + 1), version };
}
