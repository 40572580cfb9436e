import { MountTableBuilder, type MountTable } from '../../wasi/index.js';
import type { ManifestVolume } from '../../manifest/manifest-types.js';
import type { WorkerLayers } from './worker-layers.js';
import { volumeDir, type WorkerPaths } from './worker-keys.js';

/**
 * What a worker's guest sees: its root at `/` (read-write; the version's shared read-only tree
 * merged under it as the lower layer, whose files the WASI layer never lets the guest write,
 * remove or rename), each volume's directory at its mount. A root placed before overlays has
 * its read-only files in it instead, listed in `readOnlyPaths` so the WASI layer refuses writes.
 */
export function buildWorkerMounts(paths: WorkerPaths, layers: WorkerLayers, volumes: readonly ManifestVolume[], readOnlyPaths: readonly string[]): MountTable {
  const builder = new MountTableBuilder().mount('/', layers.upper, 'rw', layers.lower === null ? undefined : { lower: layers.lower });
  for (const v of volumes) builder.mount(v.mount, volumeDir(paths, v.name), 'rw');
  for (const p of readOnlyPaths) builder.readOnlyFile(p);
  return builder.build();
}
