import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planUpdate, type UpdateActionKind, type UpdateRule } from '../../src/fsplace/plan-update.js';
import type { FileTree, FileTreeEntry } from '../../src/records.js';

const D1 = `sha256-${'A'.repeat(43)}=`;
const D2 = `sha256-${'B'.repeat(43)}=`;
const e = (path: string, mode: 'ro' | 'rw', digest = D1): FileTreeEntry => ({ path, digest, mode, size: 1 });
const tree = (...entries: FileTreeEntry[]): FileTree => ({ version: 1, entries });

const RULES: { name: string; old: FileTreeEntry | null; next: FileTreeEntry | null; rule: UpdateRule; action: UpdateActionKind; places: boolean }[] = [
  { name: 'ro→ro same digest keeps', old: e('/f', 'ro'), next: e('/f', 'ro'), rule: 'ro→ro', action: 'keep', places: true },
  { name: 'ro→ro new digest replaces', old: e('/f', 'ro'), next: e('/f', 'ro', D2), rule: 'ro→ro', action: 'replace', places: true },
  { name: 'ro→rw copies', old: e('/f', 'ro'), next: e('/f', 'rw'), rule: 'ro→rw', action: 'copy', places: true },
  { name: 'ro→missing deletes', old: e('/f', 'ro'), next: null, rule: 'ro→missing', action: 'delete', places: false },
  { name: 'rw→rw keeps the worker file', old: e('/f', 'rw'), next: e('/f', 'rw', D2), rule: 'rw→rw', action: 'keep-worker-file', places: false },
  { name: 'rw→missing keeps the worker file', old: e('/f', 'rw'), next: null, rule: 'rw→missing', action: 'keep-worker-file', places: false },
  { name: 'rw→ro is a conflict', old: e('/f', 'rw'), next: e('/f', 'ro'), rule: 'rw→ro', action: 'conflict', places: false },
  { name: 'missing→ro creates', old: null, next: e('/f', 'ro'), rule: 'missing→ro', action: 'create', places: true },
  { name: 'missing→rw creates', old: null, next: e('/f', 'rw'), rule: 'missing→rw', action: 'create', places: true },
];

for (const c of RULES) {
  test(`planUpdate: ${c.name}`, () => {
    const plan = planUpdate(tree(...(c.old ? [c.old] : [])), tree(...(c.next ? [c.next] : [])));
    assert.equal(plan.actions.length, 1);
    const [action] = plan.actions;
    assert.equal(action!.rule, c.rule);
    assert.equal(action!.action, c.action);
    assert.deepEqual(action!.place, c.places ? c.next : null);
    assert.deepEqual(plan.conflicts, c.action === 'conflict' ? ['/f'] : []);
    assert.deepEqual(plan.readOnlyPaths, c.next?.mode === 'ro' ? ['/f'] : []);
  });
}

test('planUpdate covers the union of both trees, sorted, and rejects bad paths', () => {
  const plan = planUpdate(tree(e('/b', 'ro'), e('/a', 'rw')), tree(e('/c', 'ro'), e('/a', 'ro')));
  assert.deepEqual(
    plan.actions.map((a) => `${a.path} ${a.rule}`),
    ['/a rw→ro', '/b ro→missing', '/c missing→ro'],
  );
  assert.deepEqual(plan.conflicts, ['/a']);
  assert.throws(() => planUpdate(tree(), tree(e('/x/../y', 'ro'))), /E_PATH_INVALID|invalid guest path/);
});
