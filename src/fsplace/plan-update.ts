import type { FileTree, FileTreeEntry } from '../records.js';
import { checkTreePaths } from './check-tree-paths.js';
import { compareGuestPaths } from './place-file-tree.js';

export type UpdateRule = 'ro→ro' | 'ro→rw' | 'ro→missing' | 'rw→rw' | 'rw→ro' | 'rw→missing' | 'missing→ro' | 'missing→rw';

/**
 * - `keep`: ro→ro, same digest (re-linked from the store: same inode, so still O(1))
 * - `replace`: ro→ro, new digest: the new blob is linked
 * - `copy`: ro→rw: a private copy of the new blob, now the worker's own file
 * - `delete`: ro→missing
 * - `keep-worker-file`: rw→rw and rw→missing: the worker's file (or its absence, if the worker
 *   deleted it) is the worker's data and wins over the new version
 * - `create`: missing→ro / missing→rw
 * - `conflict`: rw→ro: the update is refused
 */
export type UpdateActionKind = 'keep' | 'replace' | 'copy' | 'delete' | 'keep-worker-file' | 'create' | 'conflict';

export interface UpdateAction {
  path: string;
  rule: UpdateRule;
  action: UpdateActionKind;
  /** The new tree's entry to place from the store; null when nothing is placed. */
  place: FileTreeEntry | null;
}

export interface UpdatePlan {
  /** One action per path of either tree, sorted by path. */
  actions: UpdateAction[];
  /** Paths that refuse the update (rw→ro). applyUpdate throws E_UPDATE_CONFLICT if any. */
  conflicts: string[];
  /** Read-only guest paths after the update. */
  readOnlyPaths: string[];
}

/**
 * Golem's update rules, per path, from the two trees alone. Files the guest created (in neither
 * tree) are not in the plan: applyUpdate carries them over (and refuses the update when the new
 * version wants a read-only file where the guest has one).
 */
export function planUpdate(oldTree: FileTree, newTree: FileTree): UpdatePlan {
  checkTreePaths(oldTree.entries);
  checkTreePaths(newTree.entries);
  const before = new Map(oldTree.entries.map((e) => [e.path, e]));
  const after = new Map(newTree.entries.map((e) => [e.path, e]));
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort(compareGuestPaths);
  const actions = paths.map((path) => actionFor(path, before.get(path), after.get(path)));
  return {
    actions,
    conflicts: actions.filter((a) => a.action === 'conflict').map((a) => a.path),
    readOnlyPaths: newTree.entries
      .filter((e) => e.mode === 'ro')
      .map((e) => e.path)
      .sort(compareGuestPaths),
  };
}

function actionFor(path: string, old: FileTreeEntry | undefined, next: FileTreeEntry | undefined): UpdateAction {
  const rule = `${old?.mode ?? 'missing'}→${next?.mode ?? 'missing'}` as UpdateRule;
  const act = (action: UpdateActionKind, place: FileTreeEntry | null = null): UpdateAction => ({ path, rule, action, place });
  switch (rule) {
    case 'ro→ro':
      return old!.digest === next!.digest ? act('keep', next) : act('replace', next);
    case 'ro→rw':
      return act('copy', next);
    case 'ro→missing':
      return act('delete');
    case 'rw→rw':
    case 'rw→missing':
      return act('keep-worker-file');
    case 'rw→ro':
      return act('conflict');
    case 'missing→ro':
    case 'missing→rw':
      return act('create', next);
    default:
      throw new Error(`unreachable rule ${rule}`);
  }
}
