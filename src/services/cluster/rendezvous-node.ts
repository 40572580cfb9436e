import { createHash } from 'node:crypto';

/**
 * Highest-random-weight choice of one node for a key: every node computes the same winner from
 * the same list, and when a node leaves only its keys move. Used so that the survivors of a dead
 * node split its workers between them instead of all racing for every one.
 */
export function rendezvousNode(key: string, nodeIds: readonly string[]): string | null {
  let best: string | null = null;
  let bestScore = '';
  for (const id of nodeIds) {
    const score = createHash('sha256').update(`${key}\0${id}`).digest('hex');
    if (best === null || score > bestScore) {
      best = id;
      bestScore = score;
    }
  }
  return best;
}
