import type { ComponentWorld } from '../precompile/wit-types.js';
import { typeDefText } from '../precompile/wit-types.js';

/** A component's world for `warren component show`: exports with WIT signatures (and the types they use), then imports. */
export function componentWorldText(world: ComponentWorld, indent = '  '): string {
  const lines: string[] = [`${indent}exports`];
  for (const e of world.exports) {
    if (e.kind === 'function') {
      lines.push(`${indent}  ${e.function.signature}`);
      continue;
    }
    lines.push(`${indent}  ${e.name}`);
    for (const [name, def] of Object.entries(e.types)) lines.push(`${indent}    ${typeDefText(name, def)}`);
    for (const f of e.functions) lines.push(`${indent}    ${f.signature}`);
  }
  lines.push(`${indent}imports  ${world.imports.join(', ') || '-'}`);
  return lines.join('\n') + '\n';
}
