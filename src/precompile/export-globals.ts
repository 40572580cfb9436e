import { encodeUnsigned, readUnsigned } from './leb128.js';
import { SECTION, concatBytes, findSection, ownBytes, replaceSections } from './read-sections.js';
import { readModuleLayout, type ExportEntry } from './read-module-layout.js';

export type NumericGlobalType = 'i32' | 'i64' | 'f32' | 'f64';

export interface ExportedGlobal {
  /** Index in the module's global index space. */
  index: number;
  exportName: string;
  type: NumericGlobalType;
}

export interface ExportGlobalsResult {
  wasm: Uint8Array<ArrayBuffer>;
  /** Every defined mutable numeric global, by the export name a snapshot reads and writes it through. */
  globals: ExportedGlobal[];
  /** Export name of memory 0 (the existing one, or `__warren_memory`); null when the memory is imported or absent. */
  memoryExport: string | null;
  /**
   * Defined mutable globals a snapshot cannot carry through JS (v128, references): exported all
   * the same, but a `full` snapshot of such a module is not exact. Clang's output has none.
   */
  unsupported: { index: number; type: string }[];
}

export const GLOBAL_EXPORT_PREFIX = '__warren_global_';
export const MEMORY_EXPORT = '__warren_memory';
const KIND_BYTE = { function: 0, table: 1, memory: 2, global: 3, tag: 4 } as const;
const NUMERIC = new Set(['i32', 'i64', 'f32', 'f64']);

/**
 * Exports every defined mutable global (and memory 0) so that a `full` snapshot can read and
 * restore them from the host: an exported mutable global is a WebAssembly.Global whose `value`
 * can be set (mutable-globals proposal, in V8 since 2018). Imported globals are the host's own
 * objects already and are left alone. Only the export section is rewritten.
 */
export function exportMutableGlobals(wasm: Uint8Array): ExportGlobalsResult {
  const layout = readModuleLayout(wasm);
  const names = new Set(layout.exports.map((e) => e.name));
  const firstExport = (kind: ExportEntry['kind'], index: number) => layout.exports.find((e) => e.kind === kind && e.index === index);
  const unique = (base: string) => {
    let name = base;
    while (names.has(name)) name += '_';
    names.add(name);
    return name;
  };

  const added: ExportEntry[] = [];
  const globals: ExportedGlobal[] = [];
  const unsupported: ExportGlobalsResult['unsupported'] = [];
  for (const g of layout.globals) {
    if (!g.mutable) continue;
    let name = firstExport('global', g.index)?.name;
    if (name === undefined) {
      name = unique(`${GLOBAL_EXPORT_PREFIX}${g.index}`);
      added.push({ name, kind: 'global', index: g.index });
    }
    if (NUMERIC.has(g.type)) globals.push({ index: g.index, exportName: name, type: g.type as NumericGlobalType });
    else unsupported.push({ index: g.index, type: g.type });
  }

  let memoryExport: string | null = null;
  if (layout.importedMemories === 0 && layout.memories.length > 0) {
    memoryExport = firstExport('memory', 0)?.name ?? null;
    if (memoryExport === null) {
      memoryExport = unique(MEMORY_EXPORT);
      added.push({ name: memoryExport, kind: 'memory', index: 0 });
    }
  }

  if (added.length === 0) return { wasm: ownBytes(wasm), globals, memoryExport, unsupported };

  const section = findSection(layout.sections, SECTION.export);
  const pieces: Uint8Array[] = [encodeUnsigned(layout.exports.length + added.length)];
  if (section) {
    pieces.push(wasm.subarray(readUnsigned(wasm, section.payload).next, section.end));
  }
  for (const e of added) {
    const name = new TextEncoder().encode(e.name);
    pieces.push(encodeUnsigned(name.length), name, Uint8Array.of(KIND_BYTE[e.kind]), encodeUnsigned(e.index));
  }
  const payload = concatBytes(pieces);
  return { wasm: replaceSections(wasm, layout.sections, new Map([[SECTION.export, payload]])), globals, memoryExport, unsupported };
}
