import { WarrenError } from '../../errors.js';

/**
 * Exports a caller may not name. `_initialize` is a reactor's constructor: the host runs it
 * once, when the instance starts; run again it re-runs libc's and the program's initializers over
 * live state. `__warren_*` are exports Warren's precompile adds (memory, globals for snapshots).
 */
export function checkCallableExport(name: string): void {
  if (name === '_initialize') {
    throw new WarrenError('E_BAD_REQUEST', '_initialize is run once by the host when the instance starts; it cannot be invoked', { export: name, rule: 'reserved-export' });
  }
  if (name.startsWith('__warren_')) {
    throw new WarrenError('E_BAD_REQUEST', `${name} is added by Warren, not exported by the guest; it cannot be invoked`, { export: name, rule: 'reserved-export' });
  }
}
