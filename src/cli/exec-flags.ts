import { isAbsolute, posix, resolve } from 'node:path';
import { WarrenError } from '../errors.js';
import type { MountMode } from '../wasi/index.js';

/**
 * `warren exec`'s --dir and --env, spelled as `wasmtime run` spells them so that a runner
 * written for wasmtime (`--dir ROOT::/ --env K=V MODULE -- ARGS`) drives Warren unchanged:
 *   --dir HOST::GUEST   HOST seen by the guest at GUEST
 *   --dir HOST          HOST seen at the same path
 *   --env K=V           K set to V
 *   --env K             K inherited from the caller's environment (left unset when it has none)
 * plus Warren's `:ro` suffix on --dir (everything in that mount is read-only).
 *
 * wasmtime passes a relative guest path (`--dir .`, `--dir data::data`) to the guest as the
 * preopen's name, which wasi-libc and Rust's std resolve from the working directory `/`. Warren's
 * mounts are absolute, so a relative guest path is mounted at `/` + that path (`.` at `/`): the
 * same files under the same relative and absolute names.
 */

export interface DirSpec {
  hostPath: string;
  guestPath: string;
  mode: MountMode;
}

/** A guest path as given to --dir, made absolute from `/` when it is relative. */
function absoluteGuest(path: string): string {
  const joined = posix.normalize(isAbsolute(path) ? path : `/${path}`);
  return joined.length > 1 && joined.endsWith('/') ? joined.slice(0, -1) : joined;
}

/** `HOST[::GUEST][:ro|:rw]` → a mount. */
export function parseDirSpec(spec: string): DirSpec {
  let rest = spec;
  let mode: MountMode = 'rw';
  const m = /:(ro|rw)$/.exec(rest);
  if (m) {
    mode = m[1] as MountMode;
    rest = rest.slice(0, -3);
  }
  const [host, guest, ...extra] = rest.split('::');
  if (!host || extra.length > 0 || guest === '') {
    throw new WarrenError('E_BAD_REQUEST', `--dir ${JSON.stringify(spec)}: expected HOST[::GUEST][:ro], e.g. ./data::/data:ro`);
  }
  return { hostPath: resolve(host), guestPath: absoluteGuest(guest ?? host), mode };
}

/** --env values (`K=V` or `K`) → the guest's environment; `K` alone takes K from `callerEnv`. */
export function parseEnvSpecs(specs: readonly string[], callerEnv: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const spec of specs) {
    const i = spec.indexOf('=');
    const key = i < 0 ? spec : spec.slice(0, i);
    if (key === '' || key.includes('\0')) {
      throw new WarrenError('E_BAD_REQUEST', `--env ${JSON.stringify(spec)}: expected K=V, or K to pass on the caller's K`);
    }
    if (i >= 0) env[key] = spec.slice(i + 1);
    else if (callerEnv[key] !== undefined) env[key] = callerEnv[key]!;
  }
  return env;
}
