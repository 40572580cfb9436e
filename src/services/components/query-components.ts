import { WarrenError, isWarrenError } from '../../errors.js';
import type { ComponentVersionRecord, WorkerRecord } from '../../records.js';
import { REGISTRY_PREFIX } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { componentKey, getComponentVersion, listVersions } from './component-keys.js';

export interface ComponentSummary {
  fq: string;
  namespace: string;
  name: string;
  latest: string;
  versions: string[];
  description: string;
}

export async function listComponents(ctx: NodeContext, filter: { namespaces?: string[] } = {}): Promise<ComponentSummary[]> {
  const entries = await ctx.ports.registry.list<ComponentVersionRecord>(REGISTRY_PREFIX.component);
  const byFq = new Map<string, ComponentVersionRecord[]>();
  for (const { value } of entries) {
    if (filter.namespaces && !filter.namespaces.includes(value.namespace)) continue;
    byFq.set(value.fq, [...(byFq.get(value.fq) ?? []), value]);
  }
  const out: ComponentSummary[] = [];
  for (const fq of [...byFq.keys()].sort()) {
    const versions = await listVersions(ctx.ports.registry, fq);
    const latest = versions.at(-1)!;
    out.push({
      fq,
      namespace: latest.namespace,
      name: latest.name,
      latest: latest.version,
      versions: versions.map((v) => v.version),
      description: String(latest.manifest.description ?? ''),
    });
  }
  return out;
}

export async function showComponent(ctx: NodeContext, fq: string): Promise<{ fq: string; versions: ComponentVersionRecord[] }> {
  const versions = await listVersions(ctx.ports.registry, fq);
  if (versions.length === 0) throw new WarrenError('E_NOT_FOUND', `no component ${fq}`, { fq });
  return { fq, versions };
}

export async function getModuleBytes(ctx: NodeContext, fq: string, version: string): Promise<{ record: ComponentVersionRecord; bytes: Buffer }> {
  const record = await getComponentVersion(ctx.ports.registry, fq, version);
  return { record, bytes: await ctx.ports.blobs.get(record.module.digest) };
}

/**
 * Removes a version so that it is no longer a GC root. Refused while a live worker uses it,
 * or while another component's version links it as an extension.
 */
export async function deleteComponentVersion(ctx: NodeContext, fq: string, version: string): Promise<ComponentVersionRecord> {
  const entry = await ctx.ports.registry.get<ComponentVersionRecord>(componentKey(fq, version));
  if (!entry) {
    await getComponentVersion(ctx.ports.registry, fq, version);
    throw new WarrenError('E_NOT_FOUND', `no component ${fq}@${version}`, { fq, version });
  }
  const workers = await ctx.ports.registry.list<WorkerRecord>(REGISTRY_PREFIX.worker);
  const users = workers.filter((w) => w.value.component === fq && w.value.version === version && w.value.status !== 'deleted').map((w) => w.value.id);
  if (users.length) throw new WarrenError('E_IN_USE', `${fq}@${version} is used by ${users.length} worker(s); delete or update them first`, { workers: users.slice(0, 20) });
  const dependents = (await ctx.ports.registry.list<ComponentVersionRecord>(REGISTRY_PREFIX.component))
    .filter((c) => c.value.extensions.some((e) => e.fq === fq && e.version === version))
    .map((c) => `${c.value.fq}@${c.value.version}`);
  if (dependents.length) throw new WarrenError('E_IN_USE', `${fq}@${version} is linked as an extension by ${dependents.join(', ')}`, { dependents });
  try {
    await ctx.ports.registry.delete(componentKey(fq, version), entry.revision);
  } catch (err) {
    if (isWarrenError(err, 'E_CONFLICT')) throw new WarrenError('E_CONFLICT', `${fq}@${version} changed while deleting; retry`);
    throw err;
  }
  return entry.value;
}
