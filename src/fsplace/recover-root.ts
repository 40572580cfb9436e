import { lstat, open, rename, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { errorCode } from './place-blob-file.js';

/** The siblings of a root an update uses. `marker` existing = `next` is complete (commit point). */
export function updatePathsOf(root: string): { root: string; next: string; old: string; marker: string } {
  const r = resolve(root);
  return { root: r, next: `${r}.next`, old: `${r}.old`, marker: `${r}.next.complete` };
}

export type RecoverOutcome = 'clean' | 'rolled-back' | 'rolled-forward' | 'missing';

/**
 * Brings a root back to exactly the old or the new tree after a crash in applyUpdate (call at
 * startup, before the WASI layer opens the root). The marker is the commit point: before it the
 * old tree wins, after it the new one.
 */
export async function recoverRoot(root: string): Promise<RecoverOutcome> {
  const p = updatePathsOf(root);
  const [hasRoot, hasNext, hasOld, complete] = await Promise.all([exists(p.root), exists(p.next), exists(p.old), exists(p.marker)]);
  if (complete && hasNext) {
    // Committed but not (fully) swapped in: finish the swap.
    if (hasRoot) {
      await rm(p.old, { recursive: true, force: true });
      await rename(p.root, p.old);
    }
    await rename(p.next, p.root);
    await syncDir(dirname(p.root));
    await rm(p.old, { recursive: true, force: true });
    await rm(p.marker, { force: true });
    return 'rolled-forward';
  }
  if (complete) {
    // Swapped; only the clean-up was left.
    await rm(p.old, { recursive: true, force: true });
    await rm(p.marker, { force: true });
    return hasRoot ? 'rolled-forward' : 'missing';
  }
  if (hasNext) await rm(p.next, { recursive: true, force: true });
  if (!hasRoot && hasOld) {
    // Cannot happen in applyUpdate's order (root moves only after the marker), but if it does the
    // old tree is all there is.
    await rename(p.old, p.root);
    return 'rolled-back';
  }
  if (hasOld) await rm(p.old, { recursive: true, force: true });
  if (!hasRoot) return 'missing';
  return hasNext ? 'rolled-back' : 'clean';
}

export async function writeMarker(marker: string): Promise<void> {
  const handle = await open(marker, 'w', 0o644);
  try {
    await handle.writeFile('complete\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await syncDir(dirname(marker));
}

/** Makes renames and creates in `dir` durable (best effort: not every filesystem allows it). */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => null);
  if (handle === null) return;
  try {
    await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false;
    throw err;
  }
}
