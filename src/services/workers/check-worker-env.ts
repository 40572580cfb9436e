import { WarrenError } from '../../errors.js';

const MAX_ENTRIES = 256;

/** Env and args as given by a caller: strings only, env keys without `=` or NUL, bounded counts. */
export function checkWorkerEnv(env: unknown): Record<string, string> {
  if (env === undefined || env === null) return {};
  if (typeof env !== 'object' || Array.isArray(env)) throw new WarrenError('E_BAD_REQUEST', 'env must be an object of strings', { field: 'env' });
  const entries = Object.entries(env as Record<string, unknown>);
  if (entries.length > MAX_ENTRIES) throw new WarrenError('E_BAD_REQUEST', `env has more than ${MAX_ENTRIES} entries`, { field: 'env' });
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (k === '' || k.includes('=') || k.includes('\0')) throw new WarrenError('E_BAD_REQUEST', `invalid env name ${JSON.stringify(k)}`, { field: `env.${k}` });
    if (typeof v !== 'string' || v.includes('\0')) throw new WarrenError('E_BAD_REQUEST', `env.${k} must be a string without NUL`, { field: `env.${k}` });
    out[k] = v;
  }
  return out;
}

export function checkWorkerArgs(args: unknown): string[] {
  if (args === undefined || args === null) return [];
  if (!Array.isArray(args) || args.length > MAX_ENTRIES || args.some((a) => typeof a !== 'string' || a.includes('\0'))) {
    throw new WarrenError('E_BAD_REQUEST', `args must be at most ${MAX_ENTRIES} strings without NUL`, { field: 'args' });
  }
  return args as string[];
}
