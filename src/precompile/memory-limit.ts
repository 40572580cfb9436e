import { WarrenError } from '../errors.js';
import { encodeUnsigned } from './leb128.js';
import { concatBytes, ownBytes } from './read-sections.js';
import { readModuleLayout, type Limits } from './read-module-layout.js';

/** 4 GiB of 64 KiB pages: the most a 32-bit memory can address. */
export const MAX_PAGES_32 = 65536;

/**
 * Writes the memory maximum into the module itself: Node's `resourceLimits` do not bound wasm
 * memory, a declared maximum does (memory.grow past it returns -1).
 *
 * Every memory gets `max = min(existing max, maxPages)`, defined ones in the memory section and
 * imported ones in their import entry; for an imported memory the host must then supply a memory
 * whose maximum is at most `maxPages`. Only the limits' bytes change, so this costs one copy of
 * the module whatever its size.
 */
export function setMemoryMaximum(wasm: Uint8Array, maxPages: number): Uint8Array<ArrayBuffer> {
  if (!Number.isSafeInteger(maxPages) || maxPages < 0) {
    throw new WarrenError('E_BAD_REQUEST', `memory maximum must be a whole number of pages, got ${maxPages}`);
  }
  const layout = readModuleLayout(wasm);
  const limits: Limits[] = [...layout.imports.flatMap((i) => (i.limits ? [i.limits] : [])), ...layout.memories];
  const edits: { limits: Limits; bytes: Uint8Array }[] = [];
  for (const l of limits) {
    const cap = l.is64 ? maxPages : Math.min(maxPages, MAX_PAGES_32);
    if (l.min > cap) {
      throw new WarrenError('E_MEMORY_LIMIT', `the module needs ${l.min} pages of memory at start; the limit is ${maxPages} pages`, {
        initialPages: l.min,
        maxPages,
      });
    }
    const max = l.max === null ? cap : Math.min(l.max, cap);
    if (max === l.max) continue;
    edits.push({ limits: l, bytes: concatBytes([Uint8Array.of(l.flags | 1), encodeUnsigned(l.min), encodeUnsigned(max)]) });
  }
  if (edits.length === 0) return ownBytes(wasm);
  return rewriteRanges(wasm, layout.sections, edits);
}

/**
 * Replaces byte ranges inside sections and fixes up the size header of each section touched
 * (a new limits encoding may be longer or shorter than the old one).
 */
function rewriteRanges(
  wasm: Uint8Array,
  sections: ReturnType<typeof readModuleLayout>['sections'],
  edits: { limits: Limits; bytes: Uint8Array }[],
): Uint8Array<ArrayBuffer> {
  const pieces: Uint8Array[] = [wasm.subarray(0, 8)];
  for (const s of sections) {
    const inside = edits.filter((e) => e.limits.start >= s.payload && e.limits.end <= s.end).sort((a, b) => a.limits.start - b.limits.start);
    if (inside.length === 0) {
      pieces.push(wasm.subarray(s.start, s.end));
      continue;
    }
    const body: Uint8Array[] = [];
    let pos = s.payload;
    for (const e of inside) {
      body.push(wasm.subarray(pos, e.limits.start), e.bytes);
      pos = e.limits.end;
    }
    body.push(wasm.subarray(pos, s.end));
    const payload = concatBytes(body);
    pieces.push(Uint8Array.of(s.id), encodeUnsigned(payload.length), payload);
  }
  return concatBytes(pieces);
}
