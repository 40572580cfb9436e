import { WarrenError } from '../../errors.js';
import { runBounded } from '../../fsplace/run-bounded.js';
import type { Blobs, Integrity, LocalBlobs } from '../../ports/blobs.js';
import { pageMapBlobs, type PageMap } from '../../records.js';
import { PAGE_SIZE } from '../../runtime/memory-pages.js';

export interface PageFiles {
  pageMap: PageMap;
  /** The local file of each pack (maps from before packs: of each page's own blob). */
  packFiles: string[];
  /** Non-zero pages, sorted by pack then slot (the order a resume reads them in): index, pack, slot. */
  indexes: number[];
  packOf: number[];
  slotOf: number[];
}

export async function readPageMap(store: Blobs, digest: Integrity): Promise<PageMap> {
  let map: PageMap;
  try {
    map = JSON.parse((await store.get(digest)).toString('utf8')) as PageMap;
  } catch (err) {
    throw new WarrenError('E_SNAPSHOT_INVALID', `page map ${digest} is unreadable: ${(err as Error).message}`, { digest });
  }
  if (map.pageSize !== PAGE_SIZE || !Number.isInteger(map.pages) || map.pages < 0 || typeof map.digests !== 'object' || map.digests === null) {
    throw new WarrenError('E_SNAPSHOT_INVALID', `page map ${digest} is not a 64 KiB page map`, { digest });
  }
  return map;
}

/**
 * Where each page of a snapshot lies on this node, for the guest thread to read straight into
 * linear memory, pack by pack, front to back. Packs in the node's own store are named by digest
 * with no lookup (a missing one fails the restore in the thread); a store that is not the local
 * one (the cluster's) is asked for each pack's local file, which fetches what the node lacks.
 * Blob files are written once, by an atomic rename, under their digest; `warren admin verify`
 * re-hashes them and checks every page of every pack against its map.
 */
export async function locatePages(store: Blobs, local: LocalBlobs, digest: Integrity, concurrency = 16): Promise<PageFiles> {
  const pageMap = await readPageMap(store, digest);
  const keys = Object.keys(pageMap.digests);
  if (keys.some((k) => !Number.isInteger(Number(k)) || Number(k) < 0 || Number(k) >= pageMap.pages)) {
    throw new WarrenError('E_SNAPSHOT_INVALID', `page map ${digest} lists a page past its ${pageMap.pages} pages`, { digest });
  }
  const blobs = pageMapBlobs(pageMap);
  const placed: [number, number, number][] = [];
  if (pageMap.packs) {
    for (const k of keys) {
      const loc = pageMap.at?.[k];
      if (!loc || !Number.isInteger(loc[0]) || !Number.isInteger(loc[1]) || loc[0] < 0 || loc[0] >= blobs.length || loc[1] < 0) {
        throw new WarrenError('E_SNAPSHOT_INVALID', `page map ${digest} does not place page ${k} in a pack`, { digest, page: Number(k) });
      }
      placed.push([Number(k), loc[0], loc[1]]);
    }
  } else {
    const numberOf = new Map(blobs.map((b, i) => [b, i]));
    for (const k of keys) placed.push([Number(k), numberOf.get(pageMap.digests[k]!)!, 0]);
  }
  placed.sort((a, b) => a[1] - b[1] || a[2] - b[2]);
  const packFiles = await filesOf(store, local, blobs, concurrency);
  return { pageMap, packFiles, indexes: placed.map((p) => p[0]), packOf: placed.map((p) => p[1]), slotOf: placed.map((p) => p[2]) };
}

async function filesOf(store: Blobs, local: LocalBlobs, blobs: Integrity[], concurrency: number): Promise<string[]> {
  if (store === local) return blobs.map((d) => local.localPathHint(d));
  const files: string[] = new Array<string>(blobs.length);
  await runBounded(blobs, concurrency, async (blob, k) => {
    const path = await store.path(blob);
    if (!path) throw new WarrenError('E_SNAPSHOT_INVALID', `pack ${blob} of the snapshot is not in the store`, { digest: blob });
    files[k] = path;
  });
  return files;
}
