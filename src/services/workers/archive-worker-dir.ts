import type { Readable } from 'node:stream';
import yazl from 'yazl';
import { WarrenError } from '../../errors.js';
import type { NodeContext } from '../node-context.js';
import { stageWorkerFiles } from './stage-worker-files.js';

export interface WorkerArchive {
  guestPath: string;
  files: number;
  /** A zip of the directory; entries are relative to it, mode 0444 (read-only) or 0644. */
  stream: Readable;
}

/**
 * A zip of a worker directory as it was between two calls: staged in the worker's queue (see
 * stageWorkerFiles), then zipped as it streams, outside the queue. When `signal` aborts (the
 * client went away) the staging stops, or the stream is destroyed; either way the staged copy
 * is removed.
 */
export async function archiveWorkerDir(ctx: NodeContext, workerId: string, path: string, signal?: AbortSignal): Promise<WorkerArchive> {
  const staged = await stageWorkerFiles(ctx, workerId, path, signal);
  if (staged.kind !== 'directory') {
    await staged.dispose();
    throw new WarrenError('E_BAD_REQUEST', `${staged.guestPath} is a file: read it with /file-contents`, { path: staged.guestPath });
  }
  const zip = new yazl.ZipFile();
  const stream = zip.outputStream as Readable;
  // yazl reports a file it cannot read on the ZipFile: unheard, that would end the process.
  zip.on('error', (err: Error) => stream.destroy(err));
  let files = 0;
  for (const e of staged.entries) {
    if (e.kind === 'directory') {
      zip.addEmptyDirectory(e.relPath, { mtime: e.mtime, mode: 0o40755 });
    } else {
      zip.addFile(e.staged, e.relPath, { mtime: e.mtime, mode: e.readOnly ? 0o100444 : 0o100644, compress: true });
      files++;
    }
  }
  zip.end();
  const onAbort = () => {
    if (stream.readableEnded) return;
    ctx.metrics.fileReads.inc({ outcome: 'cancelled' });
    stream.destroy();
  };
  let disposed = false;
  const dispose = () => {
    signal?.removeEventListener('abort', onAbort);
    if (!disposed) void staged.dispose();
    disposed = true;
  };
  stream.once('end', dispose);
  stream.once('close', dispose);
  stream.once('error', dispose);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return { guestPath: staged.guestPath, files, stream };
}
