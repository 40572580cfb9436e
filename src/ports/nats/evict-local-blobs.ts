import { stat } from 'node:fs/promises';
import { contentPath, type DiskBlobs } from '../embedded/disk-blobs.js';
import type { EvictLocalOptions, EvictLocalResult, Integrity } from '../blobs.js';

/**
 * Frees the node cache down to a budget, least recently used first. Last use is the newest of
 * the file's atime and mtime and the in-process `lastUsed` stamp (atime is often `relatime`, and
 * bumping mtime would show through the hardlinks in worker roots). A blob is only evicted when
 * `isReplicated` says the cluster holds it: the local copy may be the only one.
 */
export async function evictLocalBlobs(
  local: DiskBlobs,
  opts: EvictLocalOptions,
  lastUsed: ReadonlyMap<Integrity, number>,
  isReplicated: (integrity: Integrity) => Promise<boolean>,
): Promise<EvictLocalResult> {
  const candidates: { integrity: Integrity; size: number; lastUse: number }[] = [];
  let localBytes = 0;
  for await (const blob of local.list()) {
    localBytes += blob.size;
    if (opts.keep.has(blob.integrity)) continue;
    const st = await stat(contentPath(local.dir, blob.integrity)).catch(() => null);
    if (!st) continue;
    candidates.push({ integrity: blob.integrity, size: blob.size, lastUse: Math.max(st.atimeMs, st.mtimeMs, lastUsed.get(blob.integrity) ?? 0) });
  }
  const result: EvictLocalResult = { evicted: 0, bytesFreed: 0, localBytes, skippedUnreplicated: 0 };
  if (localBytes <= opts.budgetBytes) return result;
  candidates.sort((a, b) => a.lastUse - b.lastUse);
  for (const c of candidates) {
    if (result.localBytes <= opts.budgetBytes) break;
    if (!(await isReplicated(c.integrity))) {
      result.skippedUnreplicated++;
      continue;
    }
    await local.delete(c.integrity);
    result.evicted++;
    result.bytesFreed += c.size;
    result.localBytes -= c.size;
  }
  return result;
}
