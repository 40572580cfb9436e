import { MountTableBuilder, type MountTable } from '../../wasi/index.js';
import type { ManifestVolume } from '../../manifest/manifest-types.js';
import { volumeDir, type WorkerPaths } from './worker-keys.js';

/**
 * What a worker's guest sees: its root at `/` (read-write, with every read-only file listed so
 * the WASI layer refuses writes to it), each volume's directory at its mount.
 */
export function buildWorkerMounts(paths: WorkerPaths, volumes: readonly ManifestVolume[], readOnlyPaths: readonly string[]): MountTable {
  const builder = new MountTableBuilder().mount('/', paths.root, 'rw');
  for (const v of volumes) builder.mount(v.mount, volumeDir(paths, v.name), 'rw');
  for (const p of readOnlyPaths) builder.readOnlyFile(p);
  return builder.build();
}
