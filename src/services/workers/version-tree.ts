import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { placeFileTree } from '../../fsplace/index.js';
import type { Integrity } from '../../ports/blobs.js';
import { REGISTRY_PREFIX, type ComponentVersionRecord, type FileTree } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { loadFileTree } from './load-file-tree.js';

/** Placements in flight, by directory: callers that come meanwhile wait for the same one. */
const placing = new Map<string, Promise<string>>();

/** A file tree digest as a directory name (base64 has `/` and `+`). */
function dirNameOf(digest: Integrity): string {
  return Buffer.from(digest.replace(/^sha256-/, ''), 'base64').toString('hex');
}

/** The read-only entries of a file tree: what its shared tree on a node holds. */
export function readOnlyTreeOf(tree: FileTree): FileTree {
  return { version: 1, entries: tree.entries.filter((e) => e.mode === 'ro') };
}

/**
 * The node's one copy of a version's read-only files (`<data>/trees/<digest hex>`): hardlinks of
 * the store's files, placed once (under a temporary name, renamed in whole) and shared by every
 * job and every worker of every version with the same tree (a worker's root is an overlay with
 * it as the lower layer, see place-worker-root.ts). Never written: the WASI layer refuses writes
 * to a mount's lower layer and to jobs' read-only mounts.
 */
export async function ensureVersionTree(ctx: NodeContext, treeDigest: Integrity, readOnly: FileTree): Promise<string> {
  const dir = join(ctx.layout.trees, dirNameOf(treeDigest));
  // One stat when no placement is in flight: a tree removed while the process runs (by hand, or
  // by a node opened again on the same data dir) is placed again, not trusted from a cache.
  const inFlight = placing.get(dir);
  if (inFlight) return inFlight;
  if (await stat(dir).then(() => true, () => false)) return dir;
  let pending = placing.get(dir);
  if (!pending) {
    pending = placeOnce(ctx, dir, readOnly).finally(() => placing.delete(dir));
    placing.set(dir, pending);
  }
  return pending;
}

/**
 * The shared tree of `version`'s read-only files on this node, placed if missing (a new node, a
 * node that adopted the worker, a tree removed by hand); null when the version has none.
 */
export async function versionTreeOf(ctx: NodeContext, version: ComponentVersionRecord): Promise<string | null> {
  if (!version.fileTree) return null;
  const readOnly = readOnlyTreeOf(await loadFileTree(ctx.ports.blobs, version.fileTree));
  return readOnly.entries.length === 0 ? null : ensureVersionTree(ctx, version.fileTree, readOnly);
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

/**
 * Removes the shared trees that no component version names any more (their versions were
 * deleted; a version a worker runs cannot be) and what placements a crash cut short left
 * (`<hex>.tmp-…`). Run as the node starts (worker recovery), under the data dir lock: no job or
 * worker of this node runs yet and no other process shares the directory. A tree removed by
 * mistake would only be placed again by the next job or worker that needs it.
 */
export async function removeUnusedVersionTrees(ctx: NodeContext): Promise<string[]> {
  const names = await readdir(ctx.layout.trees).catch(() => [] as string[]);
  if (names.length === 0) return [];
  const versions = await ctx.ports.registry.list<ComponentVersionRecord>(REGISTRY_PREFIX.component);
  const used = new Set(versions.flatMap((e) => (e.value.fileTree ? [dirNameOf(e.value.fileTree)] : [])));
  const removed: string[] = [];
  for (const name of names) {
    if (used.has(name)) continue;
    const dir = join(ctx.layout.trees, name);
    await rm(dir, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

