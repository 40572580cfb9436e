import { WarrenError } from '../../errors.js';
import type { Manifest } from '../../manifest/parse-manifest.js';
import { readComponentWorld } from '../../precompile/read-component-world.js';
import type { ComponentWorld } from '../../precompile/wit-types.js';
import { refusedImport } from '../../wasi2/supported-imports.js';

/**
 * The push-time checks of a WebAssembly component (the branch of pushComponent for binaries
 * that are components, not core modules): it validates, its WIT world is read, and every import
 * must be one Warren's WASI 0.2 host satisfies; all refused imports are named in one error.
 */
export async function checkComponentPush(bytes: Uint8Array, manifest: Manifest): Promise<ComponentWorld> {
  if (manifest.required_extensions.length > 0) {
    throw new WarrenError('E_MANIFEST_INVALID', 'required_extensions link core modules by import name; a WebAssembly component cannot use them', {
      field: 'required_extensions',
    });
  }
  const world = await readComponentWorld(bytes);
  const refused = world.imports.map(refusedImport).filter((r) => r !== null);
  if (refused.length > 0) {
    throw new WarrenError(
      'E_IMPORT_UNSUPPORTED',
      `the component imports what Warren cannot satisfy: ${refused.map((r) => `${r.import} (${r.reason})`).join('; ')}`,
      { imports: refused.map((r) => r.import), refused },
    );
  }
  return world;
}
