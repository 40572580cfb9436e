import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isWarrenError } from '../../src/errors.js';
import type { NodeStatus } from '../../src/services/cluster/node-record.js';
import { pickPlacementNode } from '../../src/services/cluster/pick-placement-node.js';
import { rendezvousNode } from '../../src/services/cluster/rendezvous-node.js';

function node(id: string, over: Partial<NodeStatus> = {}): NodeStatus {
  const now = new Date().toISOString();
  return { id, url: `http://${id}`, startedAt: now, heartbeatAt: now, liveWorkers: 0, jobsRunning: 0, memory: 100, alive: true, heartbeatAgeMs: 0, ...over };
}

test('placement: fewest placed workers, then live instances, then memory, then id; dead or URL-less nodes never', () => {
  const pick = (cs: [NodeStatus, number][]) => pickPlacementNode(cs.map(([n, placedWorkers]) => ({ node: n, placedWorkers }))).id;
  assert.equal(pick([[node('a'), 2], [node('b'), 1], [node('c'), 3]]), 'b');
  assert.equal(pick([[node('a', { liveWorkers: 3 }), 1], [node('b', { liveWorkers: 1 }), 1]]), 'b');
  assert.equal(pick([[node('a', { memory: 500 }), 1], [node('b', { memory: 200 }), 1]]), 'b');
  assert.equal(pick([[node('b'), 0], [node('a'), 0]]), 'a');
  assert.equal(pick([[node('a', { alive: false }), 0], [node('b', { url: '' }), 0], [node('c'), 9]]), 'c');
  assert.throws(() => pick([[node('a', { alive: false }), 0]]), (e) => isWarrenError(e, 'E_UNAVAILABLE'));
});

test('rendezvous: every node computes the same owner; removing a node moves only its keys', () => {
  const nodes = ['a', 'b', 'c'];
  const keys = Array.from({ length: 300 }, (_, i) => `w_${i}`);
  const before = new Map(keys.map((k) => [k, rendezvousNode(k, nodes)]));
  assert.deepEqual(new Set(before.values()), new Set(nodes), 'keys spread over every node');
  assert.equal(rendezvousNode('w_1', ['c', 'a', 'b']), before.get('w_1'), 'order does not matter');
  for (const k of keys) {
    const after = rendezvousNode(k, ['a', 'c']);
    if (before.get(k) !== 'b') assert.equal(after, before.get(k), `${k} stays put`);
  }
  assert.equal(rendezvousNode('x', []), null);
});
