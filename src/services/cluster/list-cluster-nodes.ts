import type { Registry } from '../../ports/registry.js';
import { REGISTRY_PREFIX } from '../../records.js';
import { nodeStatusOf, type NodeRecord, type NodeStatus } from './node-record.js';

/** Every node that ever sent a heartbeat, alive or not, sorted by id. */
export async function listClusterNodes(registry: Registry, deadAfterMs: number): Promise<NodeStatus[]> {
  const now = Date.now();
  const entries = await registry.list<NodeRecord>(REGISTRY_PREFIX.node);
  return entries.map((e) => nodeStatusOf(e.value, deadAfterMs, now)).sort((a, b) => a.id.localeCompare(b.id));
}
