import { lstat, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { errorCode } from './place-blob-file.js';

/** The siblings of a root an update uses. `marker` existing = `next` is complete (commit point). */
export function updatePathsOf(root: string): { root: string; next: string; old: string; marker: string; tag: string } {
  const r = resolve(root);
  return { root: r, next: `${r}.next`, old: `${r}.old`, marker: `${r}.next.complete`, tag: `${r}.tag` };
}

/**
 * A root's tag: the component version its tree belongs to, and whether the root is an overlay's
 * upper layer (the worker's own files; the version's read-only files are a shared lower layer,
 * see services/workers/place-worker-root.ts) or a whole tree (read-only files hardlinked in it:
 * roots placed before overlays). Kept beside the root in `<root>.tag`: the version on the first
 * line, `overlay` on the second for an upper layer. An update carries the new tag in its commit
 * marker and recovery promotes it with the tree, so the tag always names the tree that is in
 * place, whatever moment a crash hit: the one change that decides which version's read-only
 * layer the worker mounts.
 */
export interface RootTag {
  version: string;
  overlay: boolean;
}

const OVERLAY = 'overlay';

function tagText(tag: RootTag): string {
  return tag.overlay ? `${tag.version}\n${OVERLAY}\n` : `${tag.version}\n`;
}

function parseTag(lines: string[]): RootTag | null {
  const version = lines[0]?.trim();
  return version ? { version, overlay: lines[1]?.trim() === OVERLAY } : null;
}

export async function readRootTag(root: string): Promise<RootTag | null> {
  const text = await readFile(updatePathsOf(root).tag, 'utf8').catch(() => null);
  return text === null ? null : parseTag(text.split('\n'));
}

/**
 * Writes the tag under a temporary name and renames it in. `durable` (the default) fsyncs it and
 * its directory first: an update's tag must survive a power loss with the tree it names. A new
 * root's tag may skip that (`durable: false`): its files are not fsynced either, and a SIGKILL
 * loses neither (the page cache is the kernel's).
 */
export async function writeRootTag(root: string, tag: RootTag, opts: { durable?: boolean } = {}): Promise<void> {
  const durable = opts.durable !== false;
  const p = updatePathsOf(root);
  const tmp = `${p.tag}.tmp`;
  const handle = await open(tmp, 'w', 0o644);
  try {
    await handle.writeFile(tagText(tag));
    if (durable) await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, p.tag);
  if (durable) await syncDir(dirname(p.tag));
}

/** The tag an update's marker carries (the lines after the first), if any. */
async function markerTag(marker: string): Promise<RootTag | null> {
  const text = await readFile(marker, 'utf8').catch(() => '');
  return parseTag(text.split('\n').slice(1));
}

export type RecoverOutcome = 'clean' | 'rolled-back' | 'rolled-forward' | 'missing';

/**
 * Brings a root back to exactly the old or the new tree after a crash in applyUpdate (call at
 * startup, before the WASI layer opens the root). The marker is the commit point: before it the
 * old tree wins, after it the new one.
 */
export async function recoverRoot(root: string): Promise<RecoverOutcome> {
  const p = updatePathsOf(root);
  // A marker never renamed in commits nothing.
  await rm(`${p.marker}.tmp`, { force: true });
  const [hasRoot, hasNext, hasOld, complete] = await Promise.all([exists(p.root), exists(p.next), exists(p.old), exists(p.marker)]);
  const tag = complete ? await markerTag(p.marker) : null;
  if (complete && hasNext) {
    // Committed but not (fully) swapped in: finish the swap.
    if (hasRoot) {
      await rm(p.old, { recursive: true, force: true });
      await rename(p.root, p.old);
    }
    await rename(p.next, p.root);
    await syncDir(dirname(p.root));
    await rm(p.old, { recursive: true, force: true });
    if (tag) await writeRootTag(p.root, tag);
    await rm(p.marker, { force: true });
    return 'rolled-forward';
  }
  if (complete) {
    // Swapped; only the clean-up was left.
    await rm(p.old, { recursive: true, force: true });
    if (tag && hasRoot) await writeRootTag(p.root, tag);
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

/**
 * The commit point of an update. Written under a temporary name and renamed in: the marker's
 * existence commits the new tree, so it must never exist without its tag (a SIGKILL between
 * creating the file and writing it once left a committed tree whose tag recovery could not read,
 * and the worker record stayed at the old version over the new files).
 */
export async function writeMarker(marker: string, tag?: RootTag): Promise<void> {
  const tmp = `${marker}.tmp`;
  const handle = await open(tmp, 'w', 0o644);
  try {
    await handle.writeFile(tag ? `complete\n${tagText(tag)}` : 'complete\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, marker);
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
