import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { WarrenError } from '../../errors.js';
import type { NodeContext } from '../node-context.js';
import { stageWorkerFiles } from './stage-worker-files.js';

export interface WorkerFileContents {
  guestPath: string;
  size: number;
  readOnly: boolean;
  lastModified: Date;
  stream: Readable;
}

/** A worker file's bytes as they were between two calls, streamed from a staged copy. */
export async function readWorkerFile(ctx: NodeContext, workerId: string, path: string, signal?: AbortSignal): Promise<WorkerFileContents> {
  const staged = await stageWorkerFiles(ctx, workerId, path, signal);
  const file = staged.entries[0];
  if (staged.kind !== 'file' || !file) {
    await staged.dispose();
    throw new WarrenError('E_BAD_REQUEST', `${staged.guestPath} is a directory: list it with /files or download it with /archive`, { path: staged.guestPath });
  }
  const stream = createReadStream(file.staged);
  stream.once('close', () => void staged.dispose());
  return { guestPath: staged.guestPath, size: file.size, readOnly: file.readOnly, lastModified: file.mtime, stream };
}
