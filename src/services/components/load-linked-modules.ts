import { WarrenError } from '../../errors.js';
import { precompileVersion } from '../../precompile/precompile-version.js';
import { setMemoryMaximum } from '../../precompile/memory-limit.js';
import { importDefinedMemory, type RecycledMemoryLimits } from '../../precompile/import-memory.js';
import type { ComponentVersionRecord } from '../../records.js';
import type { LinkedModules } from '../../runtime/thread-protocol.js';
import type { NodeContext } from '../node-context.js';
import { getComponentVersion } from './component-keys.js';
import { resolveComponentModules } from './load-component-modules.js';

export const PAGE_BYTES = 65536;

/**
 * The compiled modules to instantiate for a component version: precompiled artifacts (cached by
 * engine id in the registry, compiled once per process in the module cache). A memory limit
 * lower than the manifest's is written into a further copy of the main module, cached by digest.
 */
export async function loadLinkedModules(
  ctx: NodeContext,
  record: ComponentVersionRecord,
  memoryBytes?: number,
  opts: { recycledMemory?: boolean } = {},
): Promise<Linked> {
  // Versions are immutable and the engine id is fixed for the process, so the linked set of a
  // (version, memory limit) never changes: resolve it once, not on every job.
  const key = `${record.fq}@${record.version}#${record.contentDigest}:${memoryBytes ?? ''}:${opts.recycledMemory ? 'recycled' : ''}`;
  const cache = ctx.linkedModules;
  let entry = cache.get(key);
  if (!entry) {
    entry = resolveLinkedModules(ctx, record, memoryBytes, Boolean(opts.recycledMemory)).then((linked) => ({ ...linked, key }));
    cache.set(key, entry);
    entry.catch(() => cache.delete(key));
    if (cache.size > 1024) cache.delete(cache.keys().next().value!);
  }
  return entry;
}

export type Linked = LinkedModules & {
  /** Names this linked set (version, content, memory limit, variant) within the process. */
  key: string;
  memoryMaxBytes: number;
  /** With `recycledMemory`: the main module imports its memory (`warren`.`memory`) of these limits. */
  recycledMemory: RecycledMemoryLimits | null;
};

async function resolveLinkedModules(ctx: NodeContext, record: ComponentVersionRecord, memoryBytes: number | undefined, recycle: boolean): Promise<Omit<Linked, 'key'>> {
  const { blobs, registry } = ctx.ports;
  const manifestMemory = Number((record.manifest.limits as { memory: number }).memory);
  if (record.world) return resolveComponentModules(ctx, record, Math.floor(manifestMemory / PAGE_BYTES));
  const extensions = await Promise.all(record.extensions.map((e) => getComponentVersion(registry, e.fq, e.version)));
  const map = await precompileVersion({
    blobs,
    registry,
    record,
    extensions,
    engineId: ctx.engineId,
    memoryMaxPages: Math.floor(manifestMemory / PAGE_BYTES),
  });
  const main = map.artifacts.find((a) => a.role === 'main');
  if (!main) throw new WarrenError('E_INTERNAL', `artifact map of ${record.fq}@${record.version} has no main module`);
  const limitBytes = Math.min(memoryBytes ?? manifestMemory, manifestMemory);
  const limitPages = Math.floor(limitBytes / PAGE_BYTES);
  const limited = limitBytes < manifestMemory;
  const mainKey = limited ? `${main.digest}:max=${limitPages}` : main.digest;
  const mainBytes = async () => (limited ? setMemoryMaximum(await blobs.get(main.digest), limitPages) : blobs.get(main.digest));
  let mainModule: WebAssembly.Module | null = null;
  let recycledMemory: RecycledMemoryLimits | null = null;
  if (recycle) {
    const rewritten = importDefinedMemory(await mainBytes());
    if (rewritten) {
      mainModule = await ctx.moduleCache.get(`${mainKey}:import-memory`, async () => rewritten.wasm);
      recycledMemory = rewritten.limits;
    }
  }
  mainModule ??= await ctx.moduleCache.get(mainKey, mainBytes);
  const linked = await Promise.all(
    record.extensions.map(async (e) => {
      const node = map.artifacts.find((a) => a.role === `extension:${e.fq}`);
      if (!node) throw new WarrenError('E_EXTENSION_MISSING', `artifact map of ${record.fq}@${record.version} lacks extension ${e.fq}`);
      return { fq: e.fq, module: await ctx.moduleCache.get(node.digest, () => blobs.get(node.digest)) };
    }),
  );
  return { main: mainModule, extensions: linked, memoryMaxBytes: limitPages * PAGE_BYTES, recycledMemory };
}
