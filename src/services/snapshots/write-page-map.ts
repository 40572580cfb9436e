import { WarrenError } from '../../errors.js';
import { runBounded } from '../../fsplace/run-bounded.js';
import type { Blobs, Integrity } from '../../ports/blobs.js';
import type { PageMap } from '../../records.js';
import { PAGE_SIZE } from '../../runtime/memory-pages.js';

export interface PageScanResult {
  pages: number;
  digests: Record<string, string>;
  /** Indexes of the pages in `changedBytes`, in order. */
  changed: number[];
  changedBytes: Uint8Array;
}

export interface WritePageMapInput {
  target: Blobs;
  scan: PageScanResult;
  /**
   * True when every page the scan did not send is known to be in `target` (the base snapshot
   * was stored there and GC keeps it while its worker lives). Otherwise each is checked, and
   * copied from `copyFrom` when missing.
   */
  baseInTarget: boolean;
  copyFrom: Blobs[];
  concurrency?: number;
}

export interface WrittenPageMap {
  /** Digest of the PageMap blob. */
  digest: Integrity;
  pageMap: PageMap;
  /** Bytes of page blobs actually put (pages the store had are skipped). */
  bytesWritten: number;
  pagesWritten: number;
  /** Pages neither sent nor found anywhere: the caller scans again without a base. */
  missing: number[];
}

/**
 * Stores a memory snapshot: each changed non-zero page as its own blob (skipped when the store
 * already has that digest: identical pages across snapshots and workers are stored once), then
 * the PageMap blob that lists them. Blobs only; the snapshot record comes after, elsewhere.
 */
export async function writePageMap(input: WritePageMapInput): Promise<WrittenPageMap> {
  const { target, scan } = input;
  const limit = input.concurrency ?? 8;
  let bytesWritten = 0;
  let pagesWritten = 0;
  const sent = new Set(scan.changed);
  await runBounded(
    scan.changed.map((index, k) => ({ index, k })),
    limit,
    async ({ index, k }) => {
      const digest = scan.digests[index];
      if (!digest) throw new WarrenError('E_INTERNAL', `page ${index} was sent without a digest`);
      if (await target.has(digest)) return;
      const bytes = scan.changedBytes.subarray(k * PAGE_SIZE, (k + 1) * PAGE_SIZE);
      const info = await target.put(bytes);
      if (info.integrity !== digest) {
        throw new WarrenError('E_INTEGRITY', `page ${index} hashed to ${info.integrity} in the store, ${digest} in the guest thread`, { page: index });
      }
      bytesWritten += info.size;
      pagesWritten++;
    },
  );
  const missing: number[] = [];
  if (!input.baseInTarget) {
    const unsent = Object.keys(scan.digests).map(Number).filter((i) => !sent.has(i));
    await runBounded(unsent, limit, async (index) => {
      const digest = scan.digests[index]!;
      if (await target.has(digest)) return;
      for (const source of input.copyFrom) {
        if (source === target || !(await source.has(digest))) continue;
        const info = await target.put(await source.get(digest));
        bytesWritten += info.size;
        pagesWritten++;
        return;
      }
      missing.push(index);
    });
  }
  const pageMap: PageMap = { pageSize: PAGE_SIZE, pages: scan.pages, digests: { ...scan.digests } };
  const info = await target.put(JSON.stringify(pageMap));
  return { digest: info.integrity, pageMap, bytesWritten, pagesWritten, missing: missing.sort((a, b) => a - b) };
}
