import type { RegistryEntry } from '../../ports/registry.js';
import type { ClusterClock } from './cluster-clock.js';
import type { NodeRecord, NodeStatus } from './node-record.js';

/**
 * Judges which nodes are alive by watching their heartbeat records change, never by reading the
 * time written in them: a node is alive while the revision of its `node/<id>` record has changed
 * within the last `deadAfterMs` of this machine's monotonic clock. A record is first seen as
 * just changed (a node that starts judging gives every other node a full `deadAfterMs`; the
 * failover monitor also waits that long before it claims anything). A change is noticed when a
 * list or get observes it, so observations should come at least every heartbeat or so (the
 * monitor lists every `monitorMs`): a sparser observer sees a node as alive up to one
 * observation gap longer, never as dead sooner.
 */
export class NodeLiveness {
  private readonly seen = new Map<string, { revision: number; changedAt: number }>();
  private readonly missingSince = new Map<string, number>();

  constructor(
    private readonly deadAfterMs: number,
    private readonly clock: ClusterClock,
  ) {}

  /** The status of one heartbeat record as read just now. */
  statusOf(entry: RegistryEntry<NodeRecord>): NodeStatus {
    const now = this.clock.monotonic();
    const id = entry.value.id;
    this.missingSince.delete(id);
    let last = this.seen.get(id);
    if (!last || last.revision !== entry.revision) {
      last = { revision: entry.revision, changedAt: now };
      this.seen.set(id, last);
    }
    const heartbeatAgeMs = Math.max(0, now - last.changedAt);
    return { ...entry.value, alive: heartbeatAgeMs <= this.deadAfterMs, heartbeatAgeMs };
  }

  /**
   * For a node that has no heartbeat record (it never wrote one, or it was removed): dead once
   * this machine has seen it missing for `deadAfterMs`.
   */
  missingIsDead(id: string): boolean {
    const now = this.clock.monotonic();
    this.seen.delete(id);
    const since = this.missingSince.get(id) ?? now;
    this.missingSince.set(id, since);
    return now - since > this.deadAfterMs;
  }
}
