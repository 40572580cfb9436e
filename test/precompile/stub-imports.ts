import { readModuleLayout } from '../../src/precompile/read-module-layout.js';

/**
 * An import object that satisfies every import of `wasm` with a do-nothing value: functions
 * returning 0, fresh memories at the declared limits, globals of the declared type.
 */
export function stubImports(wasm: Uint8Array, memoryMaxPages?: number): WebAssembly.Imports {
  const layout = readModuleLayout(wasm);
  const imports: Record<string, Record<string, WebAssembly.ImportValue>> = {};
  for (const imp of layout.imports) {
    const ns = (imports[imp.module] ??= {});
    if (imp.kind === 'function') ns[imp.name] = () => 0;
    else if (imp.kind === 'memory') {
      const max = imp.limits!.max ?? memoryMaxPages;
      ns[imp.name] = new WebAssembly.Memory({ initial: imp.limits!.min, ...(max === undefined ? {} : { maximum: max }) });
    } else if (imp.kind === 'global') {
      const type = imp.global!.type as 'i32' | 'i64' | 'f32' | 'f64';
      ns[imp.name] = new WebAssembly.Global({ value: type, mutable: imp.global!.mutable }, type === 'i64' ? 0n : 0);
    } else if (imp.kind === 'table') ns[imp.name] = new WebAssembly.Table({ element: 'anyfunc', initial: 0 });
  }
  return imports;
}

export async function instantiate(wasm: Uint8Array, memoryMaxPages?: number): Promise<WebAssembly.Instance> {
  const module = await WebAssembly.compile(new Uint8Array(wasm));
  return WebAssembly.instantiate(module, stubImports(wasm, memoryMaxPages));
}
