import type { ManifestVolume } from '../../manifest/manifest-types.js';
import type { FileTree, FileTreeEntry } from '../../records.js';
import { readOnlyTreeOf } from '../workers/version-tree.js';

/**
 * How a job sees its component's initial files, computed once per version:
 * - `sharedDirs`: the largest directories that hold read-only files only; each is mounted
 *   read-only from the version's shared tree on the node (no per-job cost, however many files);
 * - `linkedFiles`: read-only files that share a directory with read-write ones (or sit in `/`):
 *   hardlinked per job from the shared tree into the scratch root and listed read-only;
 * - `copiedFiles`: read-write files, a private copy per job;
 * - volumes: an empty scratch directory at each mount, gone with the job.
 */
export interface JobFilesPlan {
  sharedDirs: string[];
  linkedFiles: FileTreeEntry[];
  copiedFiles: FileTreeEntry[];
  volumes: ManifestVolume[];
  /** The tree's read-only entries: what the shared tree holds. */
  readOnly: FileTree;
}

const under = (path: string, dir: string) => path === dir || path.startsWith(dir + '/');

function parentsOf(path: string): string[] {
  const out: string[] = [];
  for (let i = path.indexOf('/', 1); i > 0; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i));
  return out;
}

export function planJobFiles(tree: FileTree, volumes: readonly ManifestVolume[]): JobFilesPlan {
  // Files under a volume's mount are hidden by the volume, as in a worker.
  const visible = tree.entries.filter((e) => !volumes.some((v) => under(e.path, v.mount)));
  // A directory is mixed when it holds (at any depth) a read-write file or a volume's mount.
  const mixed = new Set<string>();
  for (const e of visible) if (e.mode === 'rw') for (const d of parentsOf(e.path)) mixed.add(d);
  for (const v of volumes) {
    mixed.add(v.mount);
    for (const d of parentsOf(v.mount)) mixed.add(d);
  }
  const shared = new Set<string>();
  const linkedFiles: FileTreeEntry[] = [];
  for (const e of visible) {
    if (e.mode !== 'ro') continue;
    const top = parentsOf(e.path).find((d) => !mixed.has(d));
    if (top === undefined) linkedFiles.push(e);
    else shared.add(top);
  }
  return {
    sharedDirs: [...shared].sort(),
    linkedFiles,
    copiedFiles: visible.filter((e) => e.mode === 'rw'),
    volumes: [...volumes],
    readOnly: readOnlyTreeOf(tree),
  };
}
