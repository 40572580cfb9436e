import { WarrenError } from '../errors.js';
import { WasiExit } from '../wasi/index.js';
import type { ComponentModules } from './thread-protocol.js';

type Instantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: Record<string, unknown>,
  instantiateCore: (module: WebAssembly.Module, imports?: WebAssembly.Imports) => WebAssembly.Instance,
) => Record<string, unknown>;

/** Compiled glue of this thread, by glue key; a few components at a time. */
const glues = new Map<string, Instantiate>();
const MAX_GLUES = 64;

export interface ComponentInstance {
  /** jco's export object: functions, and interfaces as objects of functions (camelCase names). */
  exports: Record<string, unknown>;
  /** Memories of every core instance, for the memory limit report (and snapshots). */
  memories: WebAssembly.Memory[];
  instances: WebAssembly.Instance[];
}

/**
 * Instantiates a transpiled component synchronously: the glue (made a function once per thread)
 * instantiates each core module with the imports Warren's WASI 0.2 host gives it.
 */
export function instantiateComponent(mods: ComponentModules, imports: Record<string, unknown>): ComponentInstance {
  let instantiate = glues.get(mods.glueKey);
  if (!instantiate) {
    instantiate = (new Function(mods.glue)() as { instantiate: Instantiate }).instantiate;
    if (glues.size >= MAX_GLUES) glues.delete(glues.keys().next().value!);
    glues.set(mods.glueKey, instantiate);
  }
  const memories: WebAssembly.Memory[] = [];
  const instances: WebAssembly.Instance[] = [];
  const exports = instantiate(
    (name) => {
      const m = mods.cores[name];
      if (!m) throw new WarrenError('E_INTERNAL', `the component's glue asks for core module ${name}, which its artifacts lack`);
      return m;
    },
    imports,
    (module, importObject) => {
      const instance = new WebAssembly.Instance(module, importObject);
      instances.push(instance);
      for (const v of Object.values(instance.exports)) if (v instanceof WebAssembly.Memory && !memories.includes(v)) memories.push(v);
      return instance;
    },
  );
  return { exports, memories, instances };
}

/** The `run` of an exported `wasi:cli/run@0.2.x` (a command component), or null. */
export function commandRun(exports: Record<string, unknown>): (() => void) | null {
  for (const [name, value] of Object.entries(exports)) {
    if (name.startsWith('wasi:cli/run@') && value && typeof (value as { run?: unknown }).run === 'function') return (value as { run: () => void }).run;
  }
  return null;
}

/**
 * Runs a command component's `run` and gives its exit code: WASI 0.2's exit carries only ok or
 * err, so 0 or 1 (as under wasmtime), or the code of a preview1 `proc_exit` through the adapter.
 */
export function runCommand(run: () => void): number {
  try {
    run();
    return 0;
  } catch (err) {
    if (err instanceof WasiExit) return err.code;
    if (isComponentError(err)) return 1;
    throw err;
  }
}

/** A component export that returned a WIT `result` error: jco throws it as a ComponentError carrying `payload`. */
export function isComponentError(err: unknown): err is Error & { payload: unknown } {
  return err instanceof Error && Object.prototype.hasOwnProperty.call(err, 'payload');
}
