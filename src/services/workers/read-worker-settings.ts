import type { ManifestLimits, ManifestVolume } from '../../manifest/manifest-types.js';
import type { ComponentVersionRecord } from '../../records.js';

export interface WorkerSettings {
  limits: ManifestLimits;
  volumes: ManifestVolume[];
  env: Record<string, string>;
}

/** The parts of a version's normalized manifest that a worker runs with. */
export function readWorkerSettings(record: ComponentVersionRecord): WorkerSettings {
  const m = record.manifest as { limits?: Partial<ManifestLimits>; volumes?: ManifestVolume[]; env?: Record<string, string> };
  return {
    limits: {
      memory: Number(m.limits?.memory ?? 256 * 2 ** 20),
      timeout: Number(m.limits?.timeout ?? 30_000),
      disk: Number(m.limits?.disk ?? 2 ** 30),
    },
    volumes: m.volumes ?? [],
    env: m.env ?? {},
  };
}
