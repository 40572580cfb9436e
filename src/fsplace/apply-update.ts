import { copyFile, link, lstat, mkdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname } from 'node:path';
import { WarrenError } from '../errors.js';
import type { Blobs } from '../ports/blobs.js';
import { fileIdentity, readOnlyIdentities } from './file-identity.js';
import { guestAncestorsOf, hostPathOf } from './guest-path.js';
import { listTree } from './list-tree.js';
import { copyWritableBlob, linkReadOnlyBlob, type CopyFallbackEvent } from './place-blob-file.js';
import { DEFAULT_PLACEMENT_CONCURRENCY } from './place-file-tree.js';
import { CopyFallbackTally, type PlacementLogger } from './placement-logger.js';
import type { UpdateAction, UpdatePlan } from './plan-update.js';
import { recoverRoot, syncDir, updatePathsOf, writeMarker, writeRootTag, type RootTag } from './recover-root.js';
import { runBounded } from './run-bounded.js';

/** The points between which a crash can happen; see recoverRoot. */
export const UPDATE_STEPS = ['carried', 'built', 'marked', 'old-moved', 'swapped', 'old-removed'] as const;
export type UpdateStep = (typeof UPDATE_STEPS)[number];

/** Thrown by the `crashAfter` test hook: applyUpdate then leaves everything as a crash would. */
export class SimulatedCrash extends Error {
  constructor(readonly step: string) {
    super(`simulated crash after ${step}`);
  }
}

export interface ApplyUpdateOptions {
  blobs: Blobs;
  root: string;
  plan: UpdatePlan;
  onCopyFallback?: (event: CopyFallbackEvent) => void;
  logger?: PlacementLogger;
  concurrency?: number;
  /** Tests only: stop (as if the process died) right after this step. */
  crashAfter?: UpdateStep;
  /**
   * The new tree's tag (its component version, and whether it is an overlay's upper layer):
   * committed with the marker, see readRootTag. An overlay's new root gets no read-only file:
   * they are the new version's shared tree, mounted under it (which must be placed before this
   * call); the paths they take still refuse guest files in the way, as placed files would.
   * The old root may be either layout (a whole tree becomes an upper layer here).
   */
  tag?: RootTag;
}

export interface ApplyUpdateResult {
  readOnlyPaths: string[];
  /** Files and symlinks taken over from the old root (rw files, files the guest created). */
  carried: number;
  linked: number;
  copied: number;
  copyFallbacks: number;
}

/**
 * Moves a worker root to a new version atomically: the new tree is built beside it in
 * `<root>.next` (old rw and guest files hardlinked over, O(1) each; ro files linked from the
 * store, unless the new root is an overlay's upper layer), a marker commits it, then two renames
 * swap it in. A crash leaves the old tree or the new
 * one, never a mix (recoverRoot finishes or undoes the swap). The worker must not be running.
 */
export async function applyUpdate(options: ApplyUpdateOptions): Promise<ApplyUpdateResult> {
  const { blobs, plan } = options;
  const p = updatePathsOf(options.root);
  if (plan.conflicts.length > 0) throw conflict(plan.conflicts, 'read-write files would become read-only');
  await recoverRoot(p.root);
  if (!(await lstat(p.root).catch(() => null))?.isDirectory()) throw new WarrenError('E_NOT_FOUND', `worker root ${p.root} not found`, { root: p.root });

  const limit = options.concurrency ?? DEFAULT_PLACEMENT_CONCURRENCY;
  const crashAfter = (step: UpdateStep): void => {
    if (options.crashAfter === step) throw new SimulatedCrash(step);
  };
  const tally = new CopyFallbackTally(options.onCopyFallback);
  const upperOnly = options.tag?.overlay === true;
  let linked = 0;
  let copied = 0;
  try {
    // Paths the old tree had read-only are re-made from the plan; everything else is the worker's.
    const managed = new Set(plan.actions.filter((a) => a.rule.startsWith('ro→')).map((a) => a.path));
    const oldReadOnly = await readOnlyIdentities(p.root, [...managed]);
    const listing = await listTree(p.root);
    const carriedNonDirs = new Set([...listing.files, ...listing.symlinks].filter((f) => !managed.has(f)));
    const toPlace = plan.actions.filter((a): a is UpdateAction & { place: NonNullable<UpdateAction['place']> } => a.place !== null);
    // missing→rw where the guest already made that file: the guest's file is kept.
    const placed = toPlace.filter((a) => !(a.place.mode === 'rw' && a.action === 'create' && carriedNonDirs.has(a.path)));
    const placedPaths = new Set(placed.map((a) => a.path));
    const oldTreeDirs = new Set(plan.actions.filter((a) => !a.rule.startsWith('missing→')).flatMap((a) => guestAncestorsOf(a.path)));
    const carriedDirs = new Set([...carriedNonDirs].flatMap((f) => guestAncestorsOf(f)));
    const guestDirs = new Set(listing.dirs.filter((d) => !oldTreeDirs.has(d)));
    const blocked = placed.filter(
      (a) =>
        carriedNonDirs.has(a.path) ||
        carriedDirs.has(a.path) ||
        guestDirs.has(a.path) ||
        guestAncestorsOf(a.path).some((d) => carriedNonDirs.has(d)),
    );
    if (blocked.length > 0) throw conflict(blocked.map((a) => a.path), 'files the guest created are in the way of the new version');

    await mkdir(p.next, { mode: 0o755 });
    // Directories the old tree made that now sit where a new file goes hold nothing of the worker's.
    const keptDirs = listing.dirs.filter((d) => !placedPaths.has(d) && !guestAncestorsOf(d).some((a) => placedPaths.has(a)));
    for (const dir of keptDirs) await mkdir(hostPathOf(p.next, dir), { mode: 0o755 });
    await runBounded([...carriedNonDirs], limit, async (path) => {
      const from = hostPathOf(p.root, path);
      const to = hostPathOf(p.next, path);
      const st = await lstat(from, { bigint: true });
      if (st.isSymbolicLink()) await symlink(await readlink(from), to);
      // A guest hardlink to a read-only inode must not carry the store's inode into a path that
      // may be writable in the new version: it gets its own bytes.
      else if (oldReadOnly.has(fileIdentity(st))) await copyFile(from, to, constants.COPYFILE_FICLONE | constants.COPYFILE_EXCL);
      else await link(from, to);
    });
    crashAfter('carried');
    await runBounded(placed, limit, async (action) => {
      const { place } = action;
      if (place.mode === 'ro' && upperOnly) return;
      const dst = hostPathOf(p.next, place.path);
      await mkdir(dirname(dst), { recursive: true, mode: 0o755 });
      if (place.mode === 'ro') {
        if ((await linkReadOnlyBlob(blobs, place.digest, dst, place.path, tally.record)) === 'linked') linked++;
      } else {
        await copyWritableBlob(blobs, place.digest, dst, place.path);
        copied++;
      }
    });
    await syncDir(p.next);
    crashAfter('built');
    await writeMarker(p.marker, options.tag);
    crashAfter('marked');
    await rename(p.root, p.old);
    crashAfter('old-moved');
    await rename(p.next, p.root);
    await syncDir(dirname(p.root));
    crashAfter('swapped');
    await rm(p.old, { recursive: true, force: true });
    crashAfter('old-removed');
    if (options.tag) await writeRootTag(p.root, options.tag);
    await rm(p.marker, { force: true });
    tally.warn(options.logger, p.root);
    return { readOnlyPaths: plan.readOnlyPaths, carried: carriedNonDirs.size, linked, copied, copyFallbacks: tally.count };
  } catch (err) {
    if (err instanceof SimulatedCrash) throw err;
    // Before the marker nothing of the old root was touched; after it, recovery finishes the swap.
    await recoverRoot(p.root);
    throw err;
  }
}

function conflict(paths: string[], why: string): WarrenError {
  return new WarrenError('E_UPDATE_CONFLICT', `update refused: ${why}: ${paths.slice(0, 5).join(', ')}${paths.length > 5 ? ', ...' : ''}`, { paths });
}
