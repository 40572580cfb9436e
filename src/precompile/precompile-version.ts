import { WarrenError } from '../errors.js';
import type { Blobs, Integrity } from '../ports/blobs.js';
import type { Registry } from '../ports/registry.js';
import type { ArtifactMapRecord, ArtifactNode, ComponentVersionRecord } from '../records.js';
import { artifactMapKey } from './artifact-map.js';
import { buildOrReuseComponentMap } from './precompile-component.js';
import { analyzeTransform, exportGlobalsTransform, memoryLimitTransform, transformLabel } from './transforms.js';

export interface PrecompileVersionInput {
  blobs: Blobs;
  registry: Registry;
  record: ComponentVersionRecord;
  /** The records of `record.extensions`, already resolved. */
  extensions: ComponentVersionRecord[];
  engineId: string;
  /** Written into the main module and each extension module (each instance gets this budget). */
  memoryMaxPages: number;
}

const inFlight = new Map<string, Promise<ArtifactMapRecord>>();

/**
 * The artifact map of one component version for one engine id, built if missing:
 * per module (main and each extension) `analyze` → `analysis:<fq>` (JSON), then
 * `export-globals` → `exported:<fq>`, then `memory-limit` → `main` / `extension:<fq>`.
 * Every output is a blob; the map (one registry record, written last) is the GC root of all of
 * them. A map whose blobs are all present and whose memory limit matches is a cache hit.
 */
export async function precompileVersion(input: PrecompileVersionInput): Promise<ArtifactMapRecord> {
  const key = artifactMapKey(input.engineId, input.record.fq, input.record.version);
  let pending = inFlight.get(key);
  if (!pending) {
    pending = buildOrReuse(input, key).finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return pending;
}

async function buildOrReuse(input: PrecompileVersionInput, key: string): Promise<ArtifactMapRecord> {
  // A WebAssembly component: transpiled into core modules + glue instead (its own DAG shape).
  if (input.record.world) return buildOrReuseComponentMap(input, key);
  const { blobs, registry, record } = input;
  const limitLabel = transformLabel(memoryLimitTransform, { max: input.memoryMaxPages });
  const existing = (await registry.get<ArtifactMapRecord>(key))?.value;
  if (existing && (await isUsable(blobs, existing, limitLabel))) return existing;

  const modules: { fq: string; digest: Integrity; role: string }[] = [{ fq: record.fq, digest: record.module.digest, role: 'main' }];
  for (const ref of record.extensions) {
    const ext = input.extensions.find((e) => e.fq === ref.fq && e.version === ref.version);
    if (!ext) throw new WarrenError('E_EXTENSION_MISSING', `extension ${ref.fq}@${ref.version} of ${record.fq}@${record.version} was not resolved`, { extension: ref.fq });
    if (ext.module.digest !== ref.module) {
      throw new WarrenError('E_INTEGRITY', `extension ${ref.fq}@${ref.version} has module ${ext.module.digest}, ${record.fq}@${record.version} was pushed against ${ref.module}`);
    }
    modules.push({ fq: ref.fq, digest: ref.module, role: `extension:${ref.fq}` });
  }

  const artifacts: ArtifactNode[] = [];
  const store = async (bytes: Uint8Array, transform: string, parent: Integrity, role: string): Promise<ArtifactNode> => {
    const info = await blobs.put(bytes);
    const node: ArtifactNode = { digest: info.integrity, transform, parents: [parent], size: info.size, role };
    artifacts.push(node);
    return node;
  };
  for (const m of modules) {
    const source = await blobs.get(m.digest);
    await store(analyzeTransform.run(source), transformLabel(analyzeTransform), m.digest, `analysis:${m.fq}`);
    const exportedBytes = exportGlobalsTransform.run(source);
    const exported = await store(exportedBytes, transformLabel(exportGlobalsTransform), m.digest, `exported:${m.fq}`);
    await store(memoryLimitTransform.run(exportedBytes, { maxPages: input.memoryMaxPages }), limitLabel, exported.digest, m.role);
  }

  const map: ArtifactMapRecord = { engineId: input.engineId, fq: record.fq, version: record.version, artifacts, createdAt: new Date().toISOString() };
  await registry.put(key, map);
  return map;
}

async function isUsable(blobs: Blobs, map: ArtifactMapRecord, limitLabel: string): Promise<boolean> {
  const main = map.artifacts.find((a) => a.role === 'main');
  if (!main || main.transform !== limitLabel) return false;
  for (const a of map.artifacts) if (!(await blobs.has(a.digest))) return false;
  return true;
}
