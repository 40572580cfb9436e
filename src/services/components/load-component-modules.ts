import { WarrenError } from '../../errors.js';
import { CORE_ROLE_PREFIX, GLUE_ROLE } from '../../precompile/precompile-component.js';
import { precompileVersion } from '../../precompile/precompile-version.js';
import type { ComponentVersionRecord } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import type { Linked } from './load-linked-modules.js';

const PAGE_BYTES = 65536;

/**
 * The linked set of a WebAssembly component: its transpiled core modules (compiled once per
 * process in the module cache, by artifact digest, and shared with threads as any module) and
 * its glue. The memory limit is the manifest's, written into every core module at precompile; a
 * job's lower limit is not applied to components (each would need its own transpiled set).
 */
export async function resolveComponentModules(ctx: NodeContext, record: ComponentVersionRecord, memoryMaxPages: number): Promise<Omit<Linked, 'key'>> {
  const { blobs, registry } = ctx.ports;
  const map = await precompileVersion({ blobs, registry, record, extensions: [], engineId: ctx.engineId, memoryMaxPages });
  const glue = map.artifacts.find((a) => a.role === GLUE_ROLE);
  if (!glue) throw new WarrenError('E_INTERNAL', `artifact map of ${record.fq}@${record.version} has no component glue`);
  const cores: Record<string, WebAssembly.Module> = {};
  for (const node of map.artifacts.filter((a) => a.role.startsWith(CORE_ROLE_PREFIX))) {
    cores[node.role.slice(CORE_ROLE_PREFIX.length)] = await ctx.moduleCache.get(node.digest, () => blobs.get(node.digest));
  }
  const first = Object.values(cores)[0];
  if (!first) throw new WarrenError('E_INTERNAL', `artifact map of ${record.fq}@${record.version} has no core module`);
  const glueText = Buffer.from(await blobs.get(glue.digest)).toString('utf8');
  return {
    // `main` is unused for a component; it is set so that code handling any linked set can.
    main: first,
    extensions: [],
    component: { glueKey: glue.digest, glue: glueText, cores },
    memoryMaxBytes: memoryMaxPages * PAGE_BYTES,
    recycledMemory: null,
  };
}
