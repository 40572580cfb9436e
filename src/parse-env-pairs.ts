import { WarrenError } from './errors.js';

/** `KEY=VALUE` strings (the CLI's --env, the job API's env query) → an environment; E_BAD_REQUEST names `what` otherwise. */
export function parseEnvPairs(pairs: readonly string[], what = 'env'): Record<string, string> {
  const env: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new WarrenError('E_BAD_REQUEST', `${what} takes KEY=VALUE, got ${JSON.stringify(p)}`);
    env[p.slice(0, i)] = p.slice(i + 1);
  }
  return env;
}
