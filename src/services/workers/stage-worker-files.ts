import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { WarrenError } from '../../errors.js';
import type { NodeContext } from '../node-context.js';
import { identityOf } from './find-read-only-files.js';
import { getWorker } from './get-worker.js';
import { liveWorkersOf } from './live-workers.js';
import { MAX_LISTED_FILES } from './list-worker-files.js';
import { loadWorkerView, type WorkerView } from './load-worker-view.js';
import { resolveWorkerPath } from './resolve-worker-path.js';

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
 * cloned (`COPYFILE_FICLONE`: a reflink where the filesystem can, bytes otherwise).
 */
export function stageWorkerFiles(ctx: NodeContext, workerId: string, path: string): Promise<StagedFiles> {
  return liveWorkersOf(ctx).enqueue(workerId, async () => {
    const view = await loadWorkerView(ctx, await getWorker(ctx, workerId));
    const target = await resolveWorkerPath(view.mounts, path);
    const dir = join(ctx.layout.staging, `read-${workerId}-${randomBytes(6).toString('hex')}`);
    await mkdir(dir, { recursive: true });
    const dispose = () => rm(dir, { recursive: true, force: true });
    try {
      const entries: StagedEntry[] = [];
      if (target.stat.isDirectory()) {
        await stageDir(view, target.guestPath, '', dir, entries);
      } else {
        const staged = join(dir, 'file');
        const readOnly = view.readOnly.has(identityOf(target.stat));
        await stageFile(target.hostPath, staged, readOnly);
        entries.push({ relPath: '', kind: 'file', staged, readOnly, mtime: target.stat.mtime, size: target.stat.size });
      }
      return { guestPath: target.guestPath, kind: target.stat.isDirectory() ? 'directory' : 'file', entries, dispose };
    } catch (err) {
      await dispose();
      throw err;
    }
  });
}

async function stageDir(view: WorkerView, guestDir: string, rel: string, into: string, out: StagedEntry[]): Promise<void> {
  const dir = await resolveWorkerPath(view.mounts, guestDir);
  for (const name of (await readdir(dir.hostPath)).sort()) {
    const guestPath = guestDir === '/' ? `/${name}` : `${guestDir}/${name}`;
    const child = await resolveWorkerPath(view.mounts, guestPath).catch(() => null);
    if (!child) continue;
    if (out.length >= MAX_LISTED_FILES) throw new WarrenError('E_BAD_REQUEST', `more than ${MAX_LISTED_FILES} files under ${guestDir}`, { path: guestDir });
    const relPath = rel === '' ? name : `${rel}/${name}`;
    const staged = join(into, String(out.length));
    if (child.stat.isDirectory()) {
      out.push({ relPath, kind: 'directory', staged, readOnly: false, mtime: child.stat.mtime, size: 0 });
      await stageDir(view, guestPath, relPath, into, out);
    } else {
      const readOnly = view.readOnly.has(identityOf(child.stat));
      await stageFile(child.hostPath, staged, readOnly);
      out.push({ relPath, kind: 'file', staged, readOnly, mtime: child.stat.mtime, size: child.stat.size });
    }
  }
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
