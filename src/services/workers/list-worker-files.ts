import { readdir } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { WarrenError } from '../../errors.js';
import type { NodeContext } from '../node-context.js';
import { identityOf } from './find-read-only-files.js';
import { getWorker } from './get-worker.js';
import { liveWorkersOf } from './live-workers.js';
import { loadWorkerView, type WorkerView } from './load-worker-view.js';
import { resolveWorkerPath } from './resolve-worker-path.js';

export interface WorkerFileNode {
  name: string;
  /** Absolute guest path. */
  path: string;
  kind: 'file' | 'directory';
  size: number;
  permissions: 'read-only' | 'read-write';
  lastModified: string;
}

export const MAX_LISTED_FILES = 100_000;

/**
 * Golem's file listing: the children of a directory (all descendants with `recursive`), or the
 * one node of a file. Runs in the worker's queue, so it sees the files between two calls.
 * Symbolic links (a guest may make them) are not listed and never followed.
 */
export function listWorkerFiles(ctx: NodeContext, workerId: string, path: string, recursive = false): Promise<WorkerFileNode[]> {
  return liveWorkersOf(ctx).enqueue(workerId, async () => {
    const view = await loadWorkerView(ctx, await getWorker(ctx, workerId));
    const target = await resolveWorkerPath(view.mounts, path);
    if (!target.stat.isDirectory()) return [fileNode(view, target.guestPath, target.stat)];
    const out: WorkerFileNode[] = [];
    await listDir(view, target.guestPath, recursive, out);
    return out;
  });
}

async function listDir(view: WorkerView, guestDir: string, recursive: boolean, out: WorkerFileNode[]): Promise<void> {
  const dir = await resolveWorkerPath(view.mounts, guestDir);
  const names = (await readdir(dir.hostPath)).sort();
  for (const name of names) {
    const guestPath = guestDir === '/' ? `/${name}` : `${guestDir}/${name}`;
    // Resolved by guest path, so a volume's mount point shows the volume's contents.
    const child = await resolveWorkerPath(view.mounts, guestPath).catch(() => null);
    if (!child) continue;
    if (out.length >= MAX_LISTED_FILES) {
      throw new WarrenError('E_BAD_REQUEST', `more than ${MAX_LISTED_FILES} files under ${guestDir}: list a subdirectory`, { path: guestDir });
    }
    out.push(fileNode(view, guestPath, child.stat));
    if (recursive && child.stat.isDirectory()) await listDir(view, guestPath, true, out);
  }
}

function fileNode(view: WorkerView, guestPath: string, st: Stats): WorkerFileNode {
  const dir = st.isDirectory();
  return {
    name: guestPath === '/' ? '/' : guestPath.slice(guestPath.lastIndexOf('/') + 1),
    path: guestPath,
    kind: dir ? 'directory' : 'file',
    size: dir ? 0 : st.size,
    permissions: !dir && view.readOnly.has(identityOf(st)) ? 'read-only' : 'read-write',
    lastModified: st.mtime.toISOString(),
  };
}
