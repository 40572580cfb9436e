import { encodeUnsigned, readUnsigned } from './leb128.js';
import { concatBytes, findSection, replaceSections, SECTION } from './read-sections.js';
import { readModuleLayout } from './read-module-layout.js';

/** Where a module rewritten by importDefinedMemory takes its memory from. */
export const RECYCLED_MEMORY_IMPORT = { module: 'warren', name: 'memory' } as const;

export interface RecycledMemoryLimits {
  initial: number;
  maximum: number | null;
}

/**
 * Turns the module's one defined memory into an import (`warren`.`memory`, same limits), so a
 * job thread can hand each fresh instance a recycled, zeroed Memory instead of V8 reserving and
 * releasing a new one per instance (an order of magnitude: docs/decisions.md). The instance is still fresh: its data
 * segments are written at instantiation and everything else is zero. Memory index 0 stays the
 * same memory, so exports and code are untouched; only the import and memory sections change.
 * Returns null where this does not apply (no memory, an imported one, several, shared or 64-bit).
 */
export function importDefinedMemory(wasm: Uint8Array): { wasm: Uint8Array<ArrayBuffer>; limits: RecycledMemoryLimits } | null {
  const layout = readModuleLayout(wasm);
  if (layout.importedMemories > 0 || layout.memories.length !== 1) return null;
  const limits = layout.memories[0]!;
  if (limits.shared || limits.is64) return null;
  const importSection = findSection(layout.sections, SECTION.import);
  let count = 0;
  let entries: Uint8Array = new Uint8Array(0);
  if (importSection) {
    const decoded = readUnsigned(wasm, importSection.payload);
    count = decoded.value;
    entries = wasm.subarray(decoded.next, importSection.end);
  }
  const name = (s: string) => {
    const bytes = new TextEncoder().encode(s);
    return concatBytes([encodeUnsigned(bytes.length), bytes]);
  };
  const memoryImport = concatBytes([name(RECYCLED_MEMORY_IMPORT.module), name(RECYCLED_MEMORY_IMPORT.name), Uint8Array.of(0x02), wasm.subarray(limits.start, limits.end)]);
  const replacements = new Map<number, Uint8Array>([
    [SECTION.import, concatBytes([encodeUnsigned(count + 1), entries, memoryImport])],
    [SECTION.memory, Uint8Array.of(0)],
  ]);
  return { wasm: replaceSections(wasm, layout.sections, replacements), limits: { initial: limits.min, maximum: limits.max } };
}
