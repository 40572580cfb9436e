import { isWarrenError } from '../errors.js';
import type { Registry } from '../ports/registry.js';
import { REGISTRY_PREFIX, type ArtifactMapRecord, type ArtifactNode } from '../records.js';

/** `precompile/<engine-id>/<fq>/<version>` */
export function artifactMapKey(engineId: string, fq: string, version: string): string {
  return `${REGISTRY_PREFIX.precompile}${engineId}/${fq}/${version}`;
}

export async function getArtifactMap(registry: Registry, engineId: string, fq: string, version: string): Promise<ArtifactMapRecord | null> {
  return (await registry.get<ArtifactMapRecord>(artifactMapKey(engineId, fq, version)))?.value ?? null;
}

/** Every artifact map, or only those of one engine id. */
export async function listArtifactMaps(registry: Registry, engineId?: string): Promise<ArtifactMapRecord[]> {
  const prefix = engineId === undefined ? REGISTRY_PREFIX.precompile : `${REGISTRY_PREFIX.precompile}${engineId}/`;
  return (await registry.list<ArtifactMapRecord>(prefix)).map((e) => e.value);
}

/**
 * Adds (or replaces, by role) one node in an existing map with compare-and-set, so a background
 * transform finishing never loses a concurrent rewrite of the map. Returns null when the map is
 * gone (its version was deleted meanwhile: the new blob is garbage for GC).
 */
export async function addArtifactNode(registry: Registry, key: string, node: ArtifactNode): Promise<ArtifactMapRecord | null> {
  for (;;) {
    const entry = await registry.get<ArtifactMapRecord>(key);
    if (!entry) return null;
    const map: ArtifactMapRecord = { ...entry.value, artifacts: [...entry.value.artifacts.filter((a) => a.role !== node.role), node] };
    try {
      await registry.compareAndSet(key, map, entry.revision);
      return map;
    } catch (err) {
      if (!isWarrenError(err, 'E_CONFLICT')) throw err;
    }
  }
}
