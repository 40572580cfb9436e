import type { Integrity } from '../../ports/blobs.js';
import { getArtifactMap } from '../../precompile/artifact-map.js';
import type { ComponentVersionRecord } from '../../records.js';
import { getComponentVersion } from '../components/component-keys.js';
import type { NodeContext } from '../node-context.js';
import { loadFileTree } from '../workers/load-file-tree.js';

/**
 * Every blob a worker of this version needs on the node that runs it: the main module, the
 * extensions' modules, the precompiled artifacts of this node's engine (when built already),
 * the file tree blob and each file of it. Reading the file tree fetches that one blob.
 */
export async function componentVersionBlobs(ctx: NodeContext, record: ComponentVersionRecord): Promise<Set<Integrity>> {
  const { registry, blobs } = ctx.ports;
  const out = new Set<Integrity>([record.module.digest]);
  for (const e of record.extensions) out.add(e.module);
  const map = await getArtifactMap(registry, ctx.engineId, record.fq, record.version);
  for (const a of map?.artifacts ?? []) out.add(a.digest);
  for (const e of record.extensions) {
    const ext = await getArtifactMap(registry, ctx.engineId, e.fq, e.version);
    for (const a of ext?.artifacts ?? []) out.add(a.digest);
  }
  if (record.fileTree) {
    out.add(record.fileTree);
    for (const entry of (await loadFileTree(blobs, record.fileTree)).entries) out.add(entry.digest);
  }
  return out;
}

/** The same for `fq@version` (latest when no version), resolved through the registry. */
export async function componentBlobsOf(ctx: NodeContext, fq: string, version?: string): Promise<{ record: ComponentVersionRecord; blobs: Set<Integrity> }> {
  const record = await getComponentVersion(ctx.ports.registry, fq, version);
  return { record, blobs: await componentVersionBlobs(ctx, record) };
}
