import { createHash } from 'node:crypto';
import { TRANSFORMS, transformLabel } from './transforms.js';
import { transpileLabel } from './transpile-component.js';

const cache = new Map<string, string>();

/**
 * What precompiled artifacts depend on besides their inputs: Warren's transforms (name@version),
 * jco, Node and V8. Artifact maps are stored under it; when it changes every version is
 * precompiled again and GC drops the old maps. `salt` (or WARREN_ENGINE_SALT) lets a test or an
 * operator force a new id.
 */
export function engineId(salt: string = process.env.WARREN_ENGINE_SALT ?? ''): string {
  let id = cache.get(salt);
  if (id === undefined) {
    const parts = [
      ...TRANSFORMS.map((t) => transformLabel(t)),
      // Components run as jco's transpiler output: a new jco is a new engine.
      transpileLabel(),
      `node@${process.versions.node}`,
      `v8@${process.versions.v8}`,
      `salt=${salt}`,
    ];
    id = createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 16);
    cache.set(salt, id);
  }
  return id;
}
