import { WarrenError } from '../errors.js';
import { WasiExit } from '../wasi/index.js';
import type { ComponentModules } from './thread-protocol.js';

type Instantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: Record<string, unknown>,
  instantiateCore: (module: WebAssembly.Module, imports?: WebAssembly.Imports) => WebAssembly.Instance,
) => Record<string, unknown>;

/** A resource table of the glue, as its sink is handed it (see transpile-component's showResourceTables). */
export interface GlueTable {
  /** HANDLE_TABLES index: the same table of the same glue in every instance. */
  index: number;
  /** [free-list head, 0, scope, rep | T_FLAG, ...]: all numbers. */
  handles: number[] & { _createdReps?: Set<number> };
  /** rep → host object; null for a resource the component defines itself. */
  captures: Map<number, unknown> | null;
  getCount: (() => number) | null;
  setCount: ((n: number) => void) | null;
}

interface Glue {
  instantiate: Instantiate;
  tablesTracked: boolean;
  watchTables: (sink: ((index: number, handles: GlueTable['handles'], captures: GlueTable['captures'], getCount: GlueTable['getCount'], setCount: GlueTable['setCount']) => void) | null) => void;
}

/** Compiled glue of this thread, by glue key; a few components at a time. */
const glues = new Map<string, Glue>();
const MAX_GLUES = 64;

export interface ComponentInstance {
  /** jco's export object: functions, and interfaces as objects of functions (camelCase names). */
  exports: Record<string, unknown>;
  /** Memories of every core instance, for the memory limit report (and snapshots). */
  memories: WebAssembly.Memory[];
  /** Every core instance, in the glue's (fixed) instantiation order. */
  instances: WebAssembly.Instance[];
  /** The glue's resource tables, for snapshots; `tablesTracked` false: some could not be shown. */
  tables: GlueTable[];
  tablesTracked: boolean;
}

/**
 * Instantiates a transpiled component synchronously: the glue (made a function once per thread)
 * instantiates each core module with the imports Warren's WASI 0.2 host gives it.
 */
export function instantiateComponent(mods: ComponentModules, imports: Record<string, unknown>): ComponentInstance {
  let glue = glues.get(mods.glueKey);
  if (!glue) {
    glue = new Function(mods.glue)() as Glue;
    if (glues.size >= MAX_GLUES) glues.delete(glues.keys().next().value!);
    glues.set(mods.glueKey, glue);
  }
  const memories: WebAssembly.Memory[] = [];
  const instances: WebAssembly.Instance[] = [];
  const tables: GlueTable[] = [];
  // Instantiation is synchronous: the sink sees only this instance's tables.
  glue.watchTables((index, handles, captures, getCount, setCount) => tables.push({ index, handles, captures, getCount, setCount }));
  try {
    const exports = instantiateWith(glue, mods, imports, memories, instances);
    return { exports, memories, instances, tables, tablesTracked: glue.tablesTracked };
  } finally {
    glue.watchTables(null);
  }
}

function instantiateWith(glue: Glue, mods: ComponentModules, imports: Record<string, unknown>, memories: WebAssembly.Memory[], instances: WebAssembly.Instance[]): Record<string, unknown> {
  return glue.instantiate(
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
