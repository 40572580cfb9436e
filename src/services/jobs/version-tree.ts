import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { placeFileTree } from '../../fsplace/index.js';
import type { Integrity } from '../../ports/blobs.js';
import type { FileTree } from '../../records.js';
import type { NodeContext } from '../node-context.js';

const placing = new Map<string, Promise<string>>();

/** A file tree digest as a directory name (base64 has `/` and `+`). */
function dirNameOf(digest: Integrity): string {
  return Buffer.from(digest.replace(/^sha256-/, ''), 'base64').toString('hex');
}

/**
 * The node's one copy of a version's read-only files (`<data>/trees/<digest hex>`): hardlinks of
 * the store's files, placed once (under a temporary name, renamed in whole) and shared by every
 * job of every version with the same tree. Never written: jobs mount its directories read-only.
 */
export function ensureVersionTree(ctx: NodeContext, treeDigest: Integrity, readOnly: FileTree): Promise<string> {
  const dir = join(ctx.layout.trees, dirNameOf(treeDigest));
  let pending = placing.get(dir);
  if (!pending) {
    pending = placeOnce(ctx, dir, readOnly);
    placing.set(dir, pending);
    // A failed placement is tried again by the next job.
    pending.catch(() => placing.delete(dir));
  }
  return pending;
}

async function placeOnce(ctx: NodeContext, dir: string, readOnly: FileTree): Promise<string> {
  if (await stat(dir).then(() => true, () => false)) return dir;
  await mkdir(ctx.layout.trees, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await placeFileTree({ blobs: ctx.ports.blobs, tree: readOnly, root: tmp, onCopyFallback: () => ctx.metrics.placementCopyFallbacks.inc(), logger: ctx.logger });
    await rename(tmp, dir).catch(async (err: NodeJS.ErrnoException) => {
      // Another process placed it first: theirs is as good as ours.
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      await rm(tmp, { recursive: true, force: true });
    });
    return dir;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
