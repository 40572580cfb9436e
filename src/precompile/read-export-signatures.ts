import { WarrenError } from '../errors.js';
import { SECTION, findSection, readSections } from './read-sections.js';
import { Cursor, readModuleLayout } from './read-module-layout.js';

/** A function's parameter and result types, as the wasm text format names them (`i32`, `f64`...). */
export interface FunctionSignature {
  params: string[];
  results: string[];
}

/**
 * The signature of every exported function, by export name. `WebAssembly.Module.exports` names
 * exports without their types; the type, import and function sections hold them, read here
 * without decoding any code.
 */
export function readExportSignatures(wasm: Uint8Array): Map<string, FunctionSignature> {
  const layout = readModuleLayout(wasm);
  const types = readFunctionTypes(wasm, layout.sections);
  const functionTypes: number[] = layout.imports.filter((i) => i.kind === 'function').map((i) => i.typeIndex ?? -1);
  const funcs = findSection(layout.sections, SECTION.function);
  if (funcs) {
    const c = new Cursor(wasm, funcs.payload, funcs.end);
    for (let n = c.u32(); n > 0; n--) functionTypes.push(c.u32());
  }
  const out = new Map<string, FunctionSignature>();
  for (const e of layout.exports) {
    if (e.kind !== 'function') continue;
    const sig = types[functionTypes[e.index] ?? -1];
    if (!sig) throw new WarrenError('E_WASM_INVALID', `export ${JSON.stringify(e.name)} names function ${e.index}, which has no function type`);
    out.set(e.name, sig);
  }
  return out;
}

/** `mix(i64, f64, i32) -> i64`; no results: `reset()`; several: `pair(i32) -> (i32, i64)`. */
export function formatSignature(name: string, sig: FunctionSignature): string {
  const results = sig.results.length === 0 ? '' : sig.results.length === 1 ? ` -> ${sig.results[0]}` : ` -> (${sig.results.join(', ')})`;
  return `${name}(${sig.params.join(', ')})${results}`;
}

/**
 * One entry per type index; null for the types that are not functions (structs and arrays of
 * the GC proposal, whose rec groups and subtypes also take indices).
 */
function readFunctionTypes(wasm: Uint8Array, sections: ReturnType<typeof readSections>): (FunctionSignature | null)[] {
  const section = findSection(sections, SECTION.type);
  if (!section) return [];
  const c = new Cursor(wasm, section.payload, section.end);
  const types: (FunctionSignature | null)[] = [];
  for (let n = c.u32(); n > 0; n--) {
    if (wasm[c.pos] === 0x4e) {
      c.skip(1);
      for (let m = c.u32(); m > 0; m--) types.push(subType(c));
    } else {
      types.push(subType(c));
    }
  }
  return types;
}

function subType(c: Cursor): FunctionSignature | null {
  const form = c.byte();
  if (form === 0x50 || form === 0x4f) {
    for (let n = c.u32(); n > 0; n--) c.u32(); // supertypes
    return compositeType(c, c.byte());
  }
  return compositeType(c, form);
}

function compositeType(c: Cursor, form: number): FunctionSignature | null {
  const vec = () => Array.from({ length: c.u32() }, () => c.valtype());
  const field = () => {
    const b = c.bytes[c.pos];
    if (b === 0x78 || b === 0x77) c.skip(1); // packed i8 / i16
    else c.valtype();
    c.byte(); // mutability
  };
  if (form === 0x60) return { params: vec(), results: vec() };
  if (form === 0x5f) {
    for (let n = c.u32(); n > 0; n--) field();
    return null;
  }
  if (form === 0x5e) {
    field();
    return null;
  }
  throw new WarrenError('E_WASM_INVALID', `unknown type form 0x${form.toString(16)} at byte ${c.pos - 1}`);
}
