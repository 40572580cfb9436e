import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { TRANSFORMS, transformLabel } from './transforms.js';
import { transpileLabel } from './transpile-component.js';

/**
 * Binaryen's version from its package.json: loading the module itself costs seconds (a large
 * wasm/asm.js build), and only the version is needed.
 */
export function binaryenVersion(): string {
  try {
    const file = createRequire(import.meta.url).resolve('binaryen/package.json');
    return String((JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'absent';
  }
}

const cache = new Map<string, string>();

/**
 * What precompiled artifacts depend on besides their inputs: Warren's transforms (name@version),
 * Binaryen, Node and V8. Artifact maps are stored under it; when it changes every version is
 * precompiled again and GC drops the old maps. `salt` (or WARREN_ENGINE_SALT) lets a test or an
 * operator force a new id.
 */
export function engineId(salt: string = process.env.WARREN_ENGINE_SALT ?? ''): string {
  let id = cache.get(salt);
  if (id === undefined) {
    const parts = [
      ...TRANSFORMS.map((t) => transformLabel(t)),
      `binaryen@${binaryenVersion()}`,
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
