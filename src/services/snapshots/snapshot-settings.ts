import type { ManifestSnapshots } from '../../manifest/manifest-types.js';
import type { ComponentVersionRecord } from '../../records.js';

/** A version's `[snapshots]` table (versions pushed before it existed: full/full, no on_call). */
export function readSnapshotSettings(version: ComponentVersionRecord): ManifestSnapshots {
  const s = (version.manifest as { snapshots?: Partial<ManifestSnapshots> }).snapshots ?? {};
  const onPause = s.on_pause ?? 'full';
  return { on_pause: onPause, on_commit: s.on_commit ?? onPause, on_call: s.on_call ?? 'none', pause_in_call: s.pause_in_call ?? false };
}
