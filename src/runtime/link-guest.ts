import { WasiHost } from '../wasi/index.js';
import type { LinkedModules } from './thread-protocol.js';

/**
 * Instantiates a guest with Warren's WASI host and its extensions: each extension is
 * instantiated first (with the same WASI imports), then the main module's imports from a
 * module named like an extension's fq name are satisfied by that extension's exports.
 * A missing import fails with WebAssembly.LinkError, which the caller maps to an error code.
 */
export function linkGuest(modules: LinkedModules, wasi: WasiHost, hostImports: WebAssembly.Imports = {}): WebAssembly.Instance {
  const imports: WebAssembly.Imports = { ...wasi.imports, ...hostImports };
  for (const ext of modules.extensions) {
    const instance = new WebAssembly.Instance(ext.module, { ...wasi.imports });
    imports[ext.fq] = instance.exports as WebAssembly.ModuleImports;
  }
  return new WebAssembly.Instance(modules.main, imports);
}

/** The guest's memory: exported `memory`, or the `__warren_memory` export that precompile adds. */
export function guestMemory(instance: WebAssembly.Instance): WebAssembly.Memory | null {
  const m = instance.exports.memory ?? instance.exports.__warren_memory;
  return m instanceof WebAssembly.Memory ? m : null;
}
