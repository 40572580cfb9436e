import { WarrenError } from '../errors.js';
import type { GlobalValues } from './worker-protocol.js';

/**
 * Every exported global of an instance as plain data (precompile's export-globals transform
 * exports each mutable global as `__warren_global_<i>`): what a snapshot or a move carries.
 */
export function readGlobals(instance: WebAssembly.Instance): GlobalValues {
  const globals: GlobalValues = {};
  for (const [name, value] of Object.entries(instance.exports)) {
    if (!(value instanceof WebAssembly.Global)) continue;
    const v: unknown = value.value;
    globals[name] = typeof v === 'bigint' ? { type: 'bigint', value: v.toString() } : { type: 'number', value: Object.is(v, -0) ? '-0' : String(v) };
  }
  return globals;
}

/** Sets the globals `readGlobals` gave into a new instance of the same module. */
export function writeGlobals(instance: WebAssembly.Instance, globals: GlobalValues): void {
  for (const [name, g] of Object.entries(globals)) {
    const target = instance.exports[name];
    if (!(target instanceof WebAssembly.Global)) {
      throw new WarrenError('E_SNAPSHOT_INVALID', `the snapshot has global ${name}, which the module does not export`, { global: name });
    }
    try {
      target.value = g.type === 'bigint' ? BigInt(g.value) : Number(g.value);
    } catch {
      // Immutable globals cannot be set, and need not be: their value never changed.
    }
  }
}
