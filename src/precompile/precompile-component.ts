import type { Blobs } from '../ports/blobs.js';
import type { Registry } from '../ports/registry.js';
import type { ArtifactMapRecord, ArtifactNode, ComponentVersionRecord } from '../records.js';
import { exportMutableGlobals } from './export-globals.js';
import { setMemoryMaximum } from './memory-limit.js';
import { transpileComponent, transpileLabel } from './transpile-component.js';

/** Role of the glue artifact; each core module is `component-core:<name>`. */
export const GLUE_ROLE = 'component-glue';
export const CORE_ROLE_PREFIX = 'component-core:';

/**
 * The artifact map of a component version: jco's transpiler turns the one component into N core
 * modules and one glue script, each stored as an artifact whose parent is the component (the
 * 1:N DAG runwasi needed). Every core module gets the manifest's memory maximum written in and
 * its mutable globals exported (for full snapshots), as a core main module does. A map made by the same transpiler (its version is in the label and in
 * the engine id) with the same limit, all of whose blobs are present, is reused.
 */
export async function buildOrReuseComponentMap(
  input: { blobs: Blobs; registry: Registry; record: ComponentVersionRecord; engineId: string; memoryMaxPages: number },
  key: string,
): Promise<ArtifactMapRecord> {
  const { blobs, registry, record } = input;
  const label = `${transpileLabel()}(max=${input.memoryMaxPages})`;
  const existing = (await registry.get<ArtifactMapRecord>(key))?.value;
  if (existing && (await isUsable(blobs, existing, label))) return existing;

  const transpiled = await transpileComponent(await blobs.get(record.module.digest));
  const artifacts: ArtifactNode[] = [];
  const store = async (bytes: Uint8Array, role: string) => {
    const info = await blobs.put(bytes);
    artifacts.push({ digest: info.integrity, transform: label, parents: [record.module.digest], size: info.size, role });
  };
  for (const core of transpiled.cores) await store(exportMutableGlobals(setMemoryMaximum(core.bytes, input.memoryMaxPages)).wasm, `${CORE_ROLE_PREFIX}${core.name}`);
  await store(Buffer.from(transpiled.glue, 'utf8'), GLUE_ROLE);
  const map: ArtifactMapRecord = { engineId: input.engineId, fq: record.fq, version: record.version, artifacts, createdAt: new Date().toISOString() };
  await registry.put(key, map);
  return map;
}

async function isUsable(blobs: Blobs, map: ArtifactMapRecord, label: string): Promise<boolean> {
  const glue = map.artifacts.find((a) => a.role === GLUE_ROLE);
  if (!glue || glue.transform !== label) return false;
  for (const a of map.artifacts) if (!(await blobs.has(a.digest))) return false;
  return true;
}
