import type { Stats } from 'node:fs';
import { WarrenError } from '../../errors.js';
import type { NodeContext } from '../node-context.js';
import { getWorker } from './get-worker.js';
import { isReadOnlyIn, loadWorkerView, type WorkerView } from './load-worker-view.js';
import { resolveWorkerPath } from './resolve-worker-path.js';
import { throwIfCancelled, walkWorkerTree } from './walk-worker-tree.js';

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
export function listWorkerFiles(ctx: NodeContext, workerId: string, path: string, recursive = false, signal?: AbortSignal): Promise<WorkerFileNode[]> {
  return ctx.live.enqueue(workerId, async () => {
    throwIfCancelled(signal);
    const view = await loadWorkerView(ctx, await getWorker(ctx, workerId));
    const target = await resolveWorkerPath(view.mounts, path);
    if (!target.stat.isDirectory()) return [fileNode(view, target.guestPath, target.stat, target.inLower)];
    const out: WorkerFileNode[] = [];
    for await (const e of walkWorkerTree(view.mounts, target, { recursive, signal })) {
      if (out.length >= MAX_LISTED_FILES) {
        throw new WarrenError('E_BAD_REQUEST', `more than ${MAX_LISTED_FILES} files under ${target.guestPath}: list a subdirectory`, { path: target.guestPath });
      }
      out.push(fileNode(view, e.guestPath, e.stat, e.inLower));
    }
    return out;
  });
}

function fileNode(view: WorkerView, guestPath: string, st: Stats, inLower: boolean): WorkerFileNode {
  const dir = st.isDirectory();
  return {
    name: guestPath === '/' ? '/' : guestPath.slice(guestPath.lastIndexOf('/') + 1),
    path: guestPath,
    kind: dir ? 'directory' : 'file',
    size: dir ? 0 : st.size,
    permissions: !dir && isReadOnlyIn(view, { inLower, stat: st }) ? 'read-only' : 'read-write',
    lastModified: st.mtime.toISOString(),
  };
}
