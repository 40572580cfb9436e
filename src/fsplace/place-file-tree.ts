import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { WarrenError } from '../errors.js';
import type { Blobs } from '../ports/blobs.js';
import type { FileTree } from '../records.js';
import { checkTreePaths } from './check-tree-paths.js';
import { hostPathOf } from './guest-path.js';
import { copyWritableBlob, errorCode, linkReadOnlyBlob, type CopyFallbackEvent } from './place-blob-file.js';
import { CopyFallbackTally, type PlacementLogger } from './placement-logger.js';
import { runBounded } from './run-bounded.js';

// libuv has 4 threads by default: more calls in flight only queue (measured: docs/decisions.md).
export const DEFAULT_PLACEMENT_CONCURRENCY = 8;
const DIR_MODE = 0o755;

export interface PlaceFileTreeOptions {
  blobs: Blobs;
  tree: FileTree;
  /** Host directory to fill; must not exist or be empty. */
  root: string;
  /** Called once per read-only file that had to be copied (feed a per-node metric here). */
  onCopyFallback?: (event: CopyFallbackEvent) => void;
  logger?: PlacementLogger;
  concurrency?: number;
}

export interface PlacementResult {
  /** Read-only files hardlinked to the store. */
  linked: number;
  /** Read-write files copied. */
  copied: number;
  /** Read-only files copied because a hardlink was not possible. */
  copyFallbacks: number;
  /** Guest paths of the read-only files, sorted: what the WASI layer must refuse writes to. */
  readOnlyPaths: string[];
}

/**
 * Places a file tree into a worker root. Read-only files are hardlinks to the store (no byte is
 * read, so the cost is O(files)); read-write files are private copies (reflinks where the
 * filesystem can). On failure nothing is left: the root is removed (or emptied, if it existed).
 * A node places a version's read-only tree once (services/workers/version-tree.ts) and a worker's
 * own layer holds only its read-write files, so this is plain fs calls, a few in flight at once.
 */
export async function placeFileTree(options: PlaceFileTreeOptions): Promise<PlacementResult> {
  const { blobs, tree } = options;
  const root = resolve(options.root);
  const dirs = checkTreePaths(tree.entries);
  const tally = new CopyFallbackTally(options.onCopyFallback);
  const limit = options.concurrency ?? DEFAULT_PLACEMENT_CONCURRENCY;
  // null until the root is ready: a root that was not usable (not empty...) is not ours to clean.
  let created: boolean | null = null;
  let linked = 0;
  let copied = 0;
  let readOnlyPaths: string[];
  try {
    created = await prepareEmptyRoot(root);
    // Parents come before children in `dirs`, so one level at a time needs no `recursive`.
    for (const level of byDepth(dirs)) {
      await runBounded(level, limit, async (dir) => {
        await mkdir(hostPathOf(root, dir), { mode: DIR_MODE });
      });
    }
    await runBounded(tree.entries, limit, async (entry) => {
      const dst = hostPathOf(root, entry.path);
      if (entry.mode === 'ro') {
        if ((await linkReadOnlyBlob(blobs, entry.digest, dst, entry.path, tally.record)) === 'linked') linked++;
      } else {
        await copyWritableBlob(blobs, entry.digest, dst, entry.path);
        copied++;
      }
    });
    readOnlyPaths = readOnlyPathsOf(tree);
  } catch (err) {
    if (created !== null) await discardRoot(root, created);
    throw err;
  }
  tally.warn(options.logger, root);
  return { linked, copied, copyFallbacks: tally.count, readOnlyPaths };
}

function readOnlyPathsOf(tree: FileTree): string[] {
  const paths: string[] = [];
  let sorted = true;
  for (const e of tree.entries) {
    if (e.mode !== 'ro') continue;
    if (sorted && paths.length > 0 && paths[paths.length - 1]! > e.path) sorted = false;
    paths.push(e.path);
  }
  return sorted ? paths : paths.sort(compareGuestPaths); // trees are stored sorted
}

/** Creates `root`, or accepts an existing empty directory. Returns whether it was created. */
async function prepareEmptyRoot(root: string): Promise<boolean> {
  // The common case (the parent is there) costs one mkdir; a missing parent (a first worker)
  // is made, then the root once more.
  let failure = await mkdir(root, { mode: DIR_MODE }).then(() => null, (err: unknown) => err);
  if (failure !== null && errorCode(failure) === 'ENOENT') {
    await mkdir(resolve(root, '..'), { recursive: true });
    failure = await mkdir(root, { mode: DIR_MODE }).then(() => null, (err: unknown) => err);
  }
  if (failure === null) return true;
  if (errorCode(failure) !== 'EEXIST') throw failure;
  const st = await lstat(root);
  if (!st.isDirectory() || (await readdir(root)).length > 0) {
    throw new WarrenError('E_ALREADY_EXISTS', `worker root ${root} exists and is not an empty directory`, { root });
  }
  return false;
}

async function discardRoot(root: string, created: boolean): Promise<void> {
  if (created) {
    await rm(root, { recursive: true, force: true });
    return;
  }
  for (const name of await readdir(root).catch(() => [] as string[])) {
    await rm(`${root}/${name}`, { recursive: true, force: true });
  }
}

function byDepth(dirs: readonly string[]): string[][] {
  const levels: string[][] = [];
  for (const dir of dirs) {
    const depth = dir.split('/').length - 2;
    (levels[depth] ??= []).push(dir);
  }
  return levels.filter((level) => level !== undefined);
}

export function compareGuestPaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
