import semver from 'semver';
import { WarrenError } from '../../errors.js';
import type { Registry } from '../../ports/registry.js';
import type { ComponentVersionRecord } from '../../records.js';
import { REGISTRY_PREFIX } from '../../records.js';

export function componentKey(fq: string, version: string): string {
  return `${REGISTRY_PREFIX.component}${fq}/${version}`;
}

export async function listVersions(registry: Registry, fq: string): Promise<ComponentVersionRecord[]> {
  const entries = await registry.list<ComponentVersionRecord>(`${REGISTRY_PREFIX.component}${fq}/`);
  return entries.map((e) => e.value).sort((a, b) => semver.compare(a.version, b.version));
}

/** A version record; without `version`, the highest semver version. E_NOT_FOUND names what is missing. */
export async function getComponentVersion(registry: Registry, fq: string, version?: string): Promise<ComponentVersionRecord> {
  if (version) {
    const entry = await registry.get<ComponentVersionRecord>(componentKey(fq, version));
    if (!entry) {
      const known = (await listVersions(registry, fq)).map((r) => r.version);
      throw new WarrenError('E_NOT_FOUND', known.length ? `component ${fq} has no version ${version} (known: ${known.join(', ')})` : `no component ${fq}`, {
        fq,
        version,
        known,
      });
    }
    return entry.value;
  }
  const all = await listVersions(registry, fq);
  const latest = all.at(-1);
  if (!latest) throw new WarrenError('E_NOT_FOUND', `no component ${fq}`, { fq });
  return latest;
}
