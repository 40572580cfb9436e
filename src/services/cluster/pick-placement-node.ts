import { WarrenError } from '../../errors.js';
import type { NodeStatus } from './node-record.js';

export interface PlacementCandidate {
  node: NodeStatus;
  /** Worker records naming this node (not deleted): current, unlike the heartbeat's counts. */
  placedWorkers: number;
}

/**
 * The least loaded live node that can serve forwarded requests (has announced its URL): fewest
 * placed workers, then fewest live instances, then least memory, then id (stable). Placed
 * workers come first because they are current: a worker that was just created is not live until
 * its first call, and heartbeats lag by up to an interval, so ranking by live instances alone
 * would send a burst of creates to one node.
 */
export function pickPlacementNode(candidates: PlacementCandidate[]): NodeStatus {
  const live = candidates.filter((c) => c.node.alive && c.node.url !== '');
  if (live.length === 0) throw new WarrenError('E_UNAVAILABLE', 'no live cluster node to place the worker on', { nodes: candidates.map((c) => c.node.id) });
  live.sort(
    (a, b) =>
      a.placedWorkers - b.placedWorkers ||
      a.node.liveWorkers - b.node.liveWorkers ||
      a.node.memory - b.node.memory ||
      a.node.id.localeCompare(b.node.id),
  );
  return live[0]!.node;
}
