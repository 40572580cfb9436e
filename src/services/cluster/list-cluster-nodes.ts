import type { Registry } from '../../ports/registry.js';
import { REGISTRY_PREFIX } from '../../records.js';
import type { NodeRecord, NodeStatus } from './node-record.js';
import type { NodeLiveness } from './node-liveness.js';

/** Every node that ever sent a heartbeat, alive or not, sorted by id. */
export async function listClusterNodes(registry: Registry, liveness: NodeLiveness): Promise<NodeStatus[]> {
  const entries = await registry.list<NodeRecord>(REGISTRY_PREFIX.node);
  return entries.map((e) => liveness.statusOf(e)).sort((a, b) => a.id.localeCompare(b.id));
}
