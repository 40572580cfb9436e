import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isWarrenError, WarrenError } from '../../errors.js';
import type { NodeContext } from '../node-context.js';
import { getWorker } from './get-worker.js';
import { MAX_LISTED_FILES } from './list-worker-files.js';
import { isReadOnlyIn, loadWorkerView } from './load-worker-view.js';
import { resolveWorkerPath } from './resolve-worker-path.js';
import { throwIfCancelled, walkWorkerTree } from './walk-worker-tree.js';

export interface StagedEntry {
  /** Path relative to the staged target (`''` when the target is a file). */
  relPath: string;
  kind: 'file' | 'directory';
  /** Host path of the staged copy. */
  staged: string;
  readOnly: boolean;
  mtime: Date;
  size: number;
}

export interface StagedFiles {
  guestPath: string;
  kind: 'file' | 'directory';
  entries: StagedEntry[];
  /** Removes the staged copies; call when the response is done. */
  dispose(): Promise<void>;
}

/**
 * A stable copy of a worker file or directory, made in the worker's queue so it is the state
 * between two calls, never a half-written file; the copy is then streamed without holding up
 * the worker. Read-only files are hardlinked (their bytes never change), read-write ones
 * cloned (`COPYFILE_FICLONE`: a reflink where the filesystem can, bytes otherwise). The queue
 * is held for one linear walk and those links and clones only. `signal` (the client went away)
 * stops it while it waits in the queue or between two entries: E_CANCELLED, nothing left behind.
 */
export function stageWorkerFiles(ctx: NodeContext, workerId: string, path: string, signal?: AbortSignal): Promise<StagedFiles> {
  const { fileReads, fileReadsWaiting } = ctx.metrics;
  let waiting = true;
  let counted = false;
  const count = (outcome: 'staged' | 'cancelled' | 'failed') => {
    if (!counted) fileReads.inc({ outcome });
    counted = true;
  };
  const stopWaiting = () => {
    if (waiting) fileReadsWaiting.dec();
    waiting = false;
  };
  // Cancelled while it waits: counted at once; the task it left in the queue does nothing.
  const onAbort = () => {
    if (!waiting) return;
    stopWaiting();
    count('cancelled');
  };
  fileReadsWaiting.inc();
  signal?.addEventListener('abort', onAbort, { once: true });
  const staged = ctx.live.enqueue(workerId, async (): Promise<StagedFiles> => {
    stopWaiting();
    throwIfCancelled(signal);
    const view = await loadWorkerView(ctx, await getWorker(ctx, workerId));
    const target = await resolveWorkerPath(view.mounts, path);
    const dir = join(ctx.layout.staging, `read-${workerId}-${randomBytes(6).toString('hex')}`);
    await mkdir(dir, { recursive: true });
    const dispose = () => rm(dir, { recursive: true, force: true });
    try {
      const entries: StagedEntry[] = [];
      if (target.stat.isDirectory()) {
        for await (const e of walkWorkerTree(view.mounts, target, { recursive: true, signal })) {
          if (entries.length >= MAX_LISTED_FILES) throw new WarrenError('E_BAD_REQUEST', `more than ${MAX_LISTED_FILES} files under ${target.guestPath}`, { path: target.guestPath });
          const staged = join(dir, String(entries.length));
          if (e.stat.isDirectory()) {
            entries.push({ relPath: e.relPath, kind: 'directory', staged, readOnly: false, mtime: e.stat.mtime, size: 0 });
          } else {
            const readOnly = isReadOnlyIn(view, e);
            await stageFile(e.hostPath, staged, readOnly);
            entries.push({ relPath: e.relPath, kind: 'file', staged, readOnly, mtime: e.stat.mtime, size: e.stat.size });
          }
        }
      } else {
        const staged = join(dir, 'file');
        const readOnly = isReadOnlyIn(view, target);
        await stageFile(target.hostPath, staged, readOnly);
        entries.push({ relPath: '', kind: 'file', staged, readOnly, mtime: target.stat.mtime, size: target.stat.size });
      }
      return { guestPath: target.guestPath, kind: target.stat.isDirectory() ? 'directory' : 'file', entries, dispose };
    } catch (err) {
      await dispose();
      throw err;
    }
  });
  return staged.then(
    (files) => {
      signal?.removeEventListener('abort', onAbort);
      count('staged');
      return files;
    },
    (err: unknown) => {
      signal?.removeEventListener('abort', onAbort);
      stopWaiting();
      count(isWarrenError(err, 'E_CANCELLED') ? 'cancelled' : 'failed');
      throw err;
    },
  );
}

async function stageFile(source: string, staged: string, readOnly: boolean): Promise<void> {
  if (readOnly) {
    try {
      await link(source, staged);
      return;
    } catch {
      // Another filesystem: copy below.
    }
  }
  await copyFile(source, staged, constants.COPYFILE_FICLONE);
}
